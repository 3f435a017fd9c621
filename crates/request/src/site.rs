//! The site configuration (docs/SITE.md): who the controller is, how to reach them and
//! their data protection officer, why the cameras record, and which supervisory authority
//! is responsible. The data-subject report is written from it.

use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use crate::Error;

/// A person or organisation with an address and contact line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Name.
    pub name: String,
    /// Postal address (one line or several separated by newlines).
    #[serde(default)]
    pub address: Option<String>,
    /// E-mail, telephone, web form: how to reach them.
    #[serde(default)]
    pub contact: Option<String>,
    /// A web address (shown as text, never as a link).
    #[serde(default)]
    pub website: Option<String>,
}

/// Why and on what basis the cameras record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processing {
    /// Purpose of the recording (Art. 13/15(1)(a) GDPR).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Legal basis (e.g. "Art. 6(1)(f) GDPR, legitimate interest in ...").
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// How long recordings are kept (Art. 15(1)(d)).
    #[serde(default)]
    pub retention: Option<String>,
}

/// The whole site configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The controller (required).
    pub controller: Party,
    /// The data protection officer.
    #[serde(default)]
    pub dpo: Option<Party>,
    /// The supervisory authority responsible for the controller.
    #[serde(default)]
    pub supervisory_authority: Option<Party>,
    /// Purpose, legal basis, retention.
    #[serde(default)]
    pub processing: Processing,
}

impl SiteConfig {
    /// Parses and checks the TOML text of a site configuration.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let c: SiteConfig = toml::from_str(text).map_err(|e| {
            Error::invalid(
                "site configuration",
                e.to_string().trim().replace('\n', " "),
            )
        })?;
        c.check()?;
        Ok(c)
    }

    /// Reads a site configuration file.
    pub fn read_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::Invalid { reason, .. } => {
                Error::invalid(format!("site configuration {}", path.display()), reason)
            }
            other => other,
        })
    }

    fn check(&self) -> Result<(), Error> {
        let mut fields: Vec<(&str, &str)> = vec![("controller.name", &self.controller.name)];
        for (what, p) in [
            ("dpo", &self.dpo),
            ("supervisory_authority", &self.supervisory_authority),
        ] {
            if let Some(p) = p {
                fields.push((what, &p.name));
            }
        }
        for (what, v) in fields {
            if v.trim().is_empty() {
                return Err(Error::invalid(
                    "site configuration",
                    format!("{what} is empty"),
                ));
            }
        }
        let all = [
            &self.controller,
            self.dpo.as_ref().unwrap_or(&self.controller),
            self.supervisory_authority
                .as_ref()
                .unwrap_or(&self.controller),
        ];
        let too_long = all
            .iter()
            .flat_map(|p| {
                [
                    Some(&p.name),
                    p.address.as_ref(),
                    p.contact.as_ref(),
                    p.website.as_ref(),
                ]
            })
            .flatten()
            .any(|s| s.len() > 2000);
        if too_long {
            return Err(Error::invalid(
                "site configuration",
                "a value is longer than 2000 bytes",
            ));
        }
        Ok(())
    }
}

/// The report's language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// German.
    De,
}

impl Lang {
    /// Every language a template exists for.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The language code (`en`, `de`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

impl FromStr for Lang {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| Error::invalid(format!("language {s:?}"), "use en or de"))
    }
}

/// How the data-subject report is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Language of the report.
    pub lang: Lang,
    /// The site configuration (controller, DPO, authority, purpose); without it the report
    /// tells the reader to ask the sender for these.
    pub site: Option<SiteConfig>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let c = SiteConfig::from_toml(include_str!("../../../docs/site.example.toml")).unwrap();
        assert!(!c.controller.name.is_empty());
        assert!(c.dpo.is_some() && c.supervisory_authority.is_some());
        assert!(c.processing.purpose.is_some() && c.processing.legal_basis.is_some());
    }

    #[test]
    fn unknown_keys_and_empty_names_are_refused() {
        assert!(SiteConfig::from_toml("[controller]\nname = \"A\"\nfax = \"1\"\n").is_err());
        assert!(SiteConfig::from_toml("[controller]\nname = \" \"\n").is_err());
        assert!(SiteConfig::from_toml("[dpo]\nname = \"B\"\n").is_err());
        assert_eq!("DE".parse::<Lang>().unwrap(), Lang::De);
        assert!("fr".parse::<Lang>().is_err());
    }
}
