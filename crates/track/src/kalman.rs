//! Constant-velocity Kalman filter on (centre x, centre y, aspect w/h, height), ByteTrack's
//! motion model. Its transition, measurement and noise matrices are block-diagonal per
//! coordinate (each coordinate only couples with its own velocity), so the 8-state filter is
//! exactly four independent 2-state filters, which is what this implements.

use obscura_core::Rect;

const STD_POS: f64 = 1.0 / 20.0;
const STD_VEL: f64 = 1.0 / 160.0;

/// One coordinate: value and velocity with a 2x2 covariance `[pp, pv; pv, vv]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    x: f64,
    v: f64,
    pp: f64,
    pv: f64,
    vv: f64,
}

impl Axis {
    fn predict(&mut self, q_pos: f64, q_vel: f64) {
        self.x += self.v;
        // P = F P F^T + Q with F = [1 1; 0 1].
        let pp = self.pp + 2.0 * self.pv + self.vv + q_pos;
        let pv = self.pv + self.vv;
        let vv = self.vv + q_vel;
        (self.pp, self.pv, self.vv) = (pp, pv, vv);
    }

    fn update(&mut self, z: f64, r: f64) {
        let s = self.pp + r;
        let (kx, kv) = (self.pp / s, self.pv / s);
        let y = z - self.x;
        self.x += kx * y;
        self.v += kv * y;
        let (pp, pv, vv) = (self.pp, self.pv, self.vv);
        self.pp = (1.0 - kx) * pp;
        self.pv = (1.0 - kx) * pv;
        self.vv = vv - kv * pv;
    }
}

/// Kalman state of one track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KalmanBox {
    axes: [Axis; 4],
}

fn measure(r: &Rect) -> [f64; 4] {
    let (cx, cy) = r.center();
    let h = f64::from(r.h.max(1e-3));
    [f64::from(cx), f64::from(cy), f64::from(r.w) / h, h]
}

impl KalmanBox {
    /// A filter started at `r` with zero velocity.
    pub fn new(r: &Rect) -> Self {
        let m = measure(r);
        let h = m[3];
        let pos_std = [
            2.0 * STD_POS * h,
            2.0 * STD_POS * h,
            1e-2,
            2.0 * STD_POS * h,
        ];
        let vel_std = [
            10.0 * STD_VEL * h,
            10.0 * STD_VEL * h,
            1e-5,
            10.0 * STD_VEL * h,
        ];
        let axes = std::array::from_fn(|i| Axis {
            x: m[i],
            v: 0.0,
            pp: pos_std[i].powi(2),
            pv: 0.0,
            vv: vel_std[i].powi(2),
        });
        Self { axes }
    }

    /// Advances one frame.
    pub fn predict(&mut self) {
        let h = self.axes[3].x.max(1.0);
        let qp = [STD_POS * h, STD_POS * h, 1e-2, STD_POS * h];
        let qv = [STD_VEL * h, STD_VEL * h, 1e-5, STD_VEL * h];
        for (i, a) in self.axes.iter_mut().enumerate() {
            a.predict(qp[i].powi(2), qv[i].powi(2));
        }
    }

    /// Corrects with a measured box.
    pub fn update(&mut self, r: &Rect) {
        let m = measure(r);
        let h = self.axes[3].x.max(1.0);
        let rs = [STD_POS * h, STD_POS * h, 1e-1, STD_POS * h];
        for (i, a) in self.axes.iter_mut().enumerate() {
            a.update(m[i], rs[i].powi(2));
        }
    }

    /// Sets the velocities to zero (a track lost for long stops drifting).
    pub fn stop(&mut self) {
        for a in &mut self.axes {
            a.v = 0.0;
        }
    }

    /// The current box estimate.
    pub fn rect(&self) -> Rect {
        let [cx, cy, a, h] = self.axes.map(|a| a.x);
        let h = h.max(0.0);
        let w = (a * h).max(0.0);
        Rect::from_center(cx as f32, cy as f32, w as f32, h as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_constant_velocity() {
        let mut k = KalmanBox::new(&Rect::new(0.0, 0.0, 20.0, 40.0));
        for t in 1..30 {
            k.predict();
            k.update(&Rect::new(3.0 * t as f32, 0.0, 20.0, 40.0));
        }
        k.predict();
        let r = k.rect();
        assert!((r.x - 90.0).abs() < 1.5, "{r:?}");
        assert!(
            (r.h - 40.0).abs() < 0.5 && (r.w - 20.0).abs() < 0.5,
            "{r:?}"
        );
    }
}
