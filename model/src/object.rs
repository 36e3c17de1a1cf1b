//! [`Object`]: a struct read only from a JSON object. serde's derived `Deserialize` also reads a
//! struct from a JSON array, field by field in order, so the fast paths would take
//! `{"data": ["1", ""]}` for a tweet with id 1 where the general parser rightly refuses it.

use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `T`, deserialised from a JSON object and from nothing else; fields are read through it as
/// through `T`.
pub struct Object<T>(pub T);

impl<T> Deref for Object<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
                // Borrowed strings stay borrowed: the derived impl reads the same map.
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(PhantomData)).map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Pair<'a> {
        id: &'a str,
        text: String,
    }

    #[test]
    fn objects_are_read_and_arrays_refused() {
        let p: Object<Pair<'_>> =
            serde_json::from_str(r#"{"text":"t","id":"1","x":[1]}"#).expect("an object");
        assert_eq!((p.id, p.text.as_str()), ("1", "t"));
        assert!(serde_json::from_str::<Pair<'_>>(r#"["1","t"]"#).is_ok(), "serde's derive reads arrays");
        assert!(serde_json::from_str::<Object<Pair<'_>>>(r#"["1","t"]"#).is_err());
        assert!(serde_json::from_str::<Object<Pair<'_>>>(r#"{"id":"1","id":"2","text":""}"#).is_err());
    }
}
