//! Pseudonyms: usernames, display names and locations replaced by HMAC-SHA256 under a secret
//! key before anything is stored — the raw JSON too. The same input always gives the same
//! pseudonym, so counts per author still work; without the key nobody can reverse or recompute
//! them.

use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use sha2::Sha256;

/// Fields of a user object that identify a person.
const USER_FIELDS: &[&str] = &["username", "screen_name", "name", "location"];

pub struct Pseudonymizer {
    key: SecretString,
}

impl Pseudonymizer {
    pub fn new(key: SecretString) -> anyhow::Result<Self> {
        anyhow::ensure!(key.expose_secret().len() >= 16, "the pseudonym key must be at least 16 characters");
        Ok(Self { key })
    }

    /// `p_` and the first 16 bytes of HMAC-SHA256(key, value), in hex.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.key.expose_secret().as_bytes()) {
            Ok(m) => m,
            // HMAC accepts keys of any length; this branch cannot be taken.
            Err(_) => return "p_".to_owned(),
        };
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("p_{}", hex::encode(&digest[..16]))
    }

    /// Replaces the identifying fields of every user object in a tweet's JSON (v2 `includes.users`,
    /// v1.1 `user`, retweeted and quoted statuses' users, …).
    pub fn rewrite(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                let is_user = map.contains_key("username") || map.contains_key("screen_name");
                for (k, v) in map.iter_mut() {
                    if is_user && USER_FIELDS.contains(&k.as_str()) {
                        if let Value::String(s) = v {
                            if !s.is_empty() {
                                *s = self.pseudonym(s);
                            }
                        }
                    } else {
                        self.rewrite(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.rewrite(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deterministic_keyed_and_thorough() {
        let p = Pseudonymizer::new("a key of sixteen+ chars".to_owned().into()).expect("key");
        assert_eq!(p.pseudonym("jack"), p.pseudonym("jack"));
        assert_ne!(p.pseudonym("jack"), p.pseudonym("jill"));
        let other = Pseudonymizer::new("another key, also long".to_owned().into()).expect("key");
        assert_ne!(p.pseudonym("jack"), other.pseudonym("jack"));
        let mut v = json!({"data": {"id": "1", "text": "hi"},
            "includes": {"users": [{"id": "7", "username": "jack", "name": "Jack D", "location": "Oslo"}]}});
        p.rewrite(&mut v);
        let s = v.to_string();
        assert!(!s.contains("jack") && !s.contains("Jack D") && !s.contains("Oslo"), "{s}");
        assert_eq!(v["includes"]["users"][0]["username"], json!(p.pseudonym("jack")));
        assert_eq!(v["data"]["text"], "hi");
        assert!(Pseudonymizer::new("short".to_owned().into()).is_err());
    }
}
