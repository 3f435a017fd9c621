//! What a run looks for: [`Targets`].

use obscura_core::ObjectClass;

use crate::error::Error;

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    /// Whole persons (the primary mask).
    pub person: bool,
    /// Faces (an extra layer; linked to their person track).
    pub face: bool,
}

impl Targets {
    /// Persons and faces.
    pub const ALL: Targets = Targets {
        person: true,
        face: true,
    };

    /// Parses `person,face` (either or both).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let mut t = Targets {
            person: false,
            face: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "person" | "persons" => t.person = true,
                "face" | "faces" => t.face = true,
                other => {
                    return Err(Error::InvalidSetting {
                        name: "targets",
                        value: other.into(),
                        reason: "expected person and/or face".into(),
                    });
                }
            }
        }
        if !t.person && !t.face {
            return Err(Error::InvalidSetting {
                name: "targets",
                value: s.into(),
                reason: "name at least one of person, face".into(),
            });
        }
        Ok(t)
    }

    /// The classes, in order.
    pub fn classes(&self) -> Vec<ObjectClass> {
        let mut v = Vec::new();
        if self.person {
            v.push(ObjectClass::Person);
        }
        if self.face {
            v.push(ObjectClass::Face);
        }
        v
    }

    /// Whether `c` is one of the targets.
    pub fn includes(&self, c: ObjectClass) -> bool {
        match c {
            ObjectClass::Person => self.person,
            ObjectClass::Face => self.face,
            ObjectClass::Other(_) => false,
        }
    }
}
