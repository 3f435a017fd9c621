//! Frees declared dimensions of an ONNX model's inputs and outputs, in memory, so a fully
//! convolutional export pinned at one input size (`yolox_nano_416`: `[1, 3, 416, 416]`) runs
//! on the size a frame needs (`[1, 3, 256, 416]` for 16:9: 38% fewer pixels than the padded
//! square, same scale, same weights). The pinned file is read, hash-checked and left as is;
//! only the session sees the edited bytes.
//!
//! The edit works on the protobuf wire format (ONNX's `onnx.proto`): `ModelProto.graph` (7) ->
//! `GraphProto.input` (11) / `output` (12) -> `ValueInfoProto.type` (2) -> `TypeProto.tensor_type`
//! (1) -> `Tensor.shape` (2) -> `TensorShapeProto.dim` (1), whose `dim_value` (1) becomes a
//! `dim_param` (2). `GraphProto.value_info` (13), the exporter's record of intermediate shapes
//! for the old size, is dropped: ONNX Runtime infers shapes itself. Every other byte is copied.

/// One protobuf field: its number, wire type, whole encoding (key included) and, for
/// length-delimited fields, the payload.
struct Field<'a> {
    number: u64,
    raw: &'a [u8],
    payload: Option<&'a [u8]>,
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
    put_varint(out, number << 3 | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn fields(msg: &[u8]) -> Result<Vec<Field<'_>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < msg.len() {
        let start = pos;
        let key = read_varint(msg, &mut pos)?;
        let mut payload = None;
        let len = match key & 7 {
            0 => {
                read_varint(msg, &mut pos)?;
                0
            }
            1 => 8,
            5 => 4,
            2 => {
                let n =
                    usize::try_from(read_varint(msg, &mut pos)?).map_err(|_| "length overflows")?;
                let end = pos
                    .checked_add(n)
                    .filter(|&e| e <= msg.len())
                    .ok_or("length runs past the message")?;
                payload = Some(&msg[pos..end]);
                n
            }
            w => return Err(format!("unsupported wire type {w}")),
        };
        pos = pos
            .checked_add(len)
            .filter(|&e| e <= msg.len())
            .ok_or("field runs past the message")?;
        out.push(Field {
            number: key >> 3,
            raw: &msg[start..pos],
            payload,
        });
    }
    Ok(out)
}

/// Rewrites the length-delimited fields numbered `number` of `msg` with `f`, copying the rest.
fn rewrite(
    msg: &[u8],
    number: u64,
    mut f: impl FnMut(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(msg.len());
    for field in fields(msg)? {
        match field.payload {
            Some(p) if field.number == number => put_len(&mut out, number, &f(p)?),
            _ => out.extend_from_slice(field.raw),
        }
    }
    Ok(out)
}

/// `TensorShapeProto` with the dims at `free` (indexes) turned into `dim_param`s.
fn free_shape(shape: &[u8], value: &str, free: &[usize]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(shape.len());
    let mut index = 0;
    for field in fields(shape)? {
        if field.number == 1 && field.payload.is_some() {
            if free.contains(&index) {
                let mut dim = Vec::new();
                put_len(&mut dim, 2, format!("{value}_{index}").as_bytes());
                put_len(&mut out, 1, &dim);
            } else {
                out.extend_from_slice(field.raw);
            }
            index += 1;
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    if let Some(bad) = free.iter().find(|&&i| i >= index) {
        return Err(format!("{value} has {index} dims, no dim {bad}"));
    }
    Ok(out)
}

fn value_name(value_info: &[u8]) -> Result<Option<&[u8]>, String> {
    Ok(fields(value_info)?
        .into_iter()
        .find(|f| f.number == 1)
        .and_then(|f| f.payload))
}

/// Returns `model` (ONNX bytes) with the dims listed per input or output name made symbolic and
/// the graph's intermediate `value_info` dropped. Every named value must exist.
pub(crate) fn free_dims(model: &[u8], values: &[(&str, &[usize])]) -> Result<Vec<u8>, String> {
    let mut found = vec![false; values.len()];
    let out = rewrite(model, 7, |graph| {
        let mut g = Vec::with_capacity(graph.len());
        for field in fields(graph)? {
            match (field.number, field.payload) {
                (13, Some(_)) => {}
                (11 | 12, Some(vi)) => {
                    let name = value_name(vi)?;
                    match values.iter().position(|(n, _)| name == Some(n.as_bytes())) {
                        Some(i) => {
                            found[i] = true;
                            let (value, free) = values[i];
                            let edited = rewrite(vi, 2, |ty| {
                                rewrite(ty, 1, |tensor| {
                                    rewrite(tensor, 2, |shape| free_shape(shape, value, free))
                                })
                            })?;
                            put_len(&mut g, field.number, &edited);
                        }
                        None => g.extend_from_slice(field.raw),
                    }
                }
                _ => g.extend_from_slice(field.raw),
            }
        }
        Ok(g)
    })?;
    match values.iter().zip(&found).find(|(_, f)| !**f) {
        Some(((name, _), _)) => Err(format!("the graph has no input or output named {name}")),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim_value(v: u64) -> Vec<u8> {
        let mut d = Vec::new();
        put_varint(&mut d, 1 << 3);
        put_varint(&mut d, v);
        d
    }

    /// A `ValueInfoProto` named `name` of a float tensor with `dims`.
    fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
        let mut shape = Vec::new();
        for &d in dims {
            put_len(&mut shape, 1, &dim_value(d));
        }
        let mut tensor = vec![1 << 3, 1];
        put_len(&mut tensor, 2, &shape);
        let mut ty = Vec::new();
        put_len(&mut ty, 1, &tensor);
        let mut vi = Vec::new();
        put_len(&mut vi, 1, name.as_bytes());
        put_len(&mut vi, 2, &ty);
        vi
    }

    fn model(extra_graph: &[u8]) -> Vec<u8> {
        let mut graph = Vec::new();
        put_len(&mut graph, 2, b"g");
        put_len(&mut graph, 11, &value_info("images", &[1, 3, 416, 416]));
        put_len(&mut graph, 12, &value_info("output", &[1, 3549, 85]));
        put_len(&mut graph, 13, &value_info("mid", &[1, 16, 208, 208]));
        graph.extend_from_slice(extra_graph);
        let mut m = vec![1 << 3, 8];
        put_len(&mut m, 7, &graph);
        put_len(&mut m, 8, b"opset");
        m
    }

    /// Dims of the named graph input/output, as `Ok(value)` or `Err(param)`.
    fn dims_of(model: &[u8], name: &str) -> Vec<Result<u64, String>> {
        let graph = fields(model)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 7)
            .unwrap()
            .payload
            .unwrap();
        let vi = fields(graph)
            .unwrap()
            .into_iter()
            .filter_map(|f| f.payload.filter(|_| f.number == 11 || f.number == 12))
            .find(|vi| value_name(vi).unwrap() == Some(name.as_bytes()))
            .unwrap();
        let sub = |m: &[u8], n: u64| {
            fields(m)
                .unwrap()
                .into_iter()
                .find(|f| f.number == n)
                .unwrap()
                .payload
                .unwrap()
                .to_vec()
        };
        let shape = sub(&sub(&sub(vi, 2), 1), 2);
        fields(&shape)
            .unwrap()
            .into_iter()
            .map(|d| {
                let f = fields(d.payload.unwrap()).unwrap().remove(0);
                match f.payload {
                    Some(p) => Err(String::from_utf8(p.to_vec()).unwrap()),
                    None => {
                        let mut pos = 1;
                        Ok(read_varint(f.raw, &mut pos).unwrap())
                    }
                }
            })
            .collect()
    }

    #[test]
    fn frees_the_named_dims_and_drops_value_info_only() {
        let tail = [0x42u8, 1, b'x']; // field 8 of the graph, kept byte for byte
        let m = model(&tail);
        let out = free_dims(&m, &[("images", &[2, 3]), ("output", &[1])]).unwrap();
        assert_eq!(
            dims_of(&out, "images"),
            vec![Ok(1), Ok(3), Err("images_2".into()), Err("images_3".into())]
        );
        assert_eq!(
            dims_of(&out, "output"),
            vec![Ok(1), Err("output_1".into()), Ok(85)]
        );
        let graph = fields(&out)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 7)
            .unwrap()
            .payload
            .unwrap();
        let numbers: Vec<u64> = fields(graph).unwrap().iter().map(|f| f.number).collect();
        assert_eq!(numbers, vec![2, 11, 12, 8]);
        assert!(out.ends_with(&{
            let mut t = Vec::new();
            put_len(&mut t, 8, b"opset");
            t
        }));
        assert!(graph.ends_with(&tail));
    }

    #[test]
    fn unknown_names_dims_and_broken_bytes_are_refused() {
        let m = model(&[]);
        assert!(
            free_dims(&m, &[("nope", &[0])])
                .unwrap_err()
                .contains("nope")
        );
        assert!(
            free_dims(&m, &[("images", &[4])])
                .unwrap_err()
                .contains("no dim 4")
        );
        assert!(free_dims(&m[..m.len() - 3], &[("images", &[2])]).is_err());
        assert!(free_dims(&[0x3b], &[]).unwrap_err().contains("wire type"));
    }
}
