//! Encoding: H.264 (libx264) in MP4, committed atomically, no source metadata.
//!
//! Metadata policy: the output carries no metadata from any source. Nothing is copied from
//! the input container or streams (no GPS/location, device, titles, handler names or
//! encoder strings of the source); the only tags present are the ones the MP4 muxer and
//! x264 always write about themselves (`major_brand`, `encoder=Lavf...`,
//! `handler_name=VideoHandler`, x264's settings SEI), plus one evidence fact computed for
//! the output itself: [`VideoSpec::creation_time`], the wall-clock time of the output's
//! first frame (MP4 stores it in whole seconds), so an exported period can still be placed
//! on the wall clock.

use ffmpeg_next as ff;

mod audio;
mod settings;
mod video;

pub use settings::{
    AudioMode, AudioSource, EncoderSettings, EncoderSettingsBuilder, Preset, VideoSpec,
};
pub use video::Encoder;

fn eagain(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use obscura_core::{Frame, PixelFormat, Rational, Timestamp};

    fn assert_send<T: Send>() {}

    #[test]
    fn encoder_is_send() {
        assert_send::<Encoder>();
    }

    #[test]
    fn builder_validates_and_carries_the_bad_value() {
        let s = EncoderSettings::builder()
            .crf(23)
            .preset(Preset::Ultrafast)
            .audio(AudioMode::Keep)
            .build()
            .unwrap();
        assert_eq!(
            (s.crf(), s.preset(), s.audio(), s.bitrate()),
            (23, Preset::Ultrafast, AudioMode::Keep, None)
        );
        let e = EncoderSettings::builder().crf(52).build().unwrap_err();
        assert!(
            matches!(&e, Error::InvalidSetting { name: "crf", value, .. } if value == "52"),
            "{e}"
        );
        let e = EncoderSettings::builder().crf(-1).build().unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "crf", value, .. } if value == "-1"));
        let e = EncoderSettings::builder().bitrate(5).build().unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "bitrate", value, .. } if value == "5"));
        assert_eq!(
            EncoderSettings::builder()
                .bitrate(2_000_000)
                .build()
                .unwrap()
                .bitrate(),
            Some(2_000_000)
        );
    }

    #[test]
    fn presets_and_audio_modes_parse() {
        for p in Preset::ALL {
            assert_eq!(p.as_str().parse::<Preset>().unwrap(), p);
        }
        assert!(matches!(
            "turbo".parse::<Preset>(),
            Err(Error::InvalidSetting { name: "preset", .. })
        ));
        assert_eq!("keep".parse::<AudioMode>().unwrap(), AudioMode::Keep);
        assert_eq!("mute".parse::<AudioMode>().unwrap(), AudioMode::Mute);
        assert_eq!("drop".parse::<AudioMode>().unwrap(), AudioMode::Drop);
        assert!("loud".parse::<AudioMode>().is_err());
    }

    #[test]
    fn bad_sizes_and_keep_without_source_are_refused_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mp4");
        let tb = Rational::new(1, 10).unwrap();
        let spec = VideoSpec {
            width: 33,
            height: 20,
            time_base: tb,
            frame_rate: Some(Rational::new(10, 1).unwrap()),
            creation_time: None,
        };
        let e = Encoder::create(
            &dest,
            &VideoSpec { width: 0, ..spec },
            &EncoderSettings::default(),
        )
        .unwrap_err();
        assert!(matches!(&e, Error::InvalidSetting { name: "width", value, .. } if value == "0"));
        let e = Encoder::create(
            &dest,
            &VideoSpec {
                height: 20_000,
                ..spec
            },
            &EncoderSettings::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidSetting { name: "height", value, .. } if value == "20000")
        );
        let keep = EncoderSettings::builder()
            .audio(AudioMode::Keep)
            .build()
            .unwrap();
        assert!(matches!(
            Encoder::create(&dest, &spec, &keep),
            Err(Error::InvalidSetting { name: "audio", .. })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn dropped_encoder_leaves_no_file_and_finish_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mp4");
        let tb = Rational::new(1, 10).unwrap();
        let spec = VideoSpec {
            width: 32,
            height: 16,
            time_base: tb,
            frame_rate: Some(Rational::new(10, 1).unwrap()),
            creation_time: None,
        };
        let settings = EncoderSettings::builder()
            .preset(Preset::Ultrafast)
            .build()
            .unwrap();
        let mut enc = Encoder::create(&dest, &spec, &settings).unwrap();
        for i in 0..3 {
            enc.write(&Frame::black(
                PixelFormat::Yuv420p,
                32,
                16,
                i,
                Timestamp::new(i as i64, tb),
            ))
            .unwrap();
        }
        drop(enc);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "a dropped encoder must leave nothing"
        );

        let mut enc = Encoder::create(&dest, &spec, &settings).unwrap();
        let e = enc
            .write(&Frame::black(
                PixelFormat::Yuv420p,
                30,
                16,
                0,
                Timestamp::new(0, tb),
            ))
            .unwrap_err();
        assert!(matches!(e, Error::BadFrame { .. }));
        enc.write(&Frame::black(
            PixelFormat::Yuv420p,
            32,
            16,
            0,
            Timestamp::new(0, tb),
        ))
        .unwrap();
        let e = enc
            .write(&Frame::black(
                PixelFormat::Yuv420p,
                32,
                16,
                1,
                Timestamp::new(0, tb),
            ))
            .unwrap_err();
        assert!(e.to_string().contains("not after"), "{e}");
        enc.write(&Frame::black(
            PixelFormat::Rgb24,
            32,
            16,
            1,
            Timestamp::new(1, tb),
        ))
        .unwrap();
        let out = enc.finish().unwrap();
        assert_eq!(out, dest);
        assert!(std::fs::metadata(&dest).unwrap().len() > 0);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
