//! A setting given as text (an environment variable, a flag), read as the type its
//! field in the settings structs asks for: an environment variable is always a
//! string, but `STRATA_DDL_RETRIES=3` means the integer 3 and `STRATA_SAFE=false` the
//! boolean. The field's own `Deserialize` says which type it wants, so a setting
//! added to the structs is read right without a list of keys here.

use std::cell::RefCell;
use std::fmt::Display;

use serde::de::value::{Error, MapDeserializer};
use serde::de::{self, Deserialize, Error as _, IntoDeserializer, Visitor};

use super::settings::Settings;

/// The value of `section.key` read from `text` as the settings structs type it (an
/// integer, a boolean, or a string for text and durations), checked against the
/// field; `Err` is what is wrong with it.
pub(super) fn typed(section: &str, key: &str, text: &str) -> Result<toml::Value, String> {
    let read = RefCell::new(None);
    let path = [section, key];
    let leaf = Leaf { text, read: &read };
    Settings::deserialize(Nested { path: &path, leaf }).map_err(|e| e.to_string())?;
    // Nothing asked for the value (cannot happen for a field that exists): as given.
    Ok(read
        .into_inner()
        .unwrap_or_else(|| toml::Value::String(text.into())))
}

/// A table holding only `path` (outermost first), whose last key holds `leaf`.
struct Nested<'a> {
    path: &'a [&'a str],
    leaf: Leaf<'a>,
}

impl IntoDeserializer<'_, Error> for Nested<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Nested<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.path {
            [] => self.leaf.deserialize_any(visitor),
            // The leaf itself, so that the field asks it for its type.
            [last] => visitor.visit_map(MapDeserializer::new(std::iter::once((*last, self.leaf)))),
            [first, rest @ ..] => {
                let inner = Nested {
                    path: rest,
                    leaf: self.leaf,
                };
                visitor.visit_map(MapDeserializer::new(std::iter::once((*first, inner))))
            }
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

/// The text of one setting; whatever type its field asks for is parsed from it and
/// kept in `read` as the TOML value the layers merge.
struct Leaf<'a> {
    text: &'a str,
    read: &'a RefCell<Option<toml::Value>>,
}

impl Leaf<'_> {
    fn keep(&self, value: toml::Value) {
        *self.read.borrow_mut() = Some(value);
    }

    /// The text as a whole number that fits `T`, kept as a TOML integer.
    fn integer<T>(&self) -> Result<T, Error>
    where
        T: TryFrom<i64> + Bounded,
    {
        let text = self.text.trim();
        let range = || format!("a whole number from {} to {}", T::MIN, T::MAX);
        // Beyond i64 no TOML file could hold it either.
        let wide: i64 = text
            .parse()
            .map_err(|_| Error::custom(format!("`{text}` is not {}", range())))?;
        let value =
            T::try_from(wide).map_err(|_| Error::custom(format!("`{text}` is not {}", range())))?;
        self.keep(toml::Value::Integer(wide));
        Ok(value)
    }
}

/// The bounds of an integer type, for the message.
trait Bounded {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! bounded {
    ($($t:ty)*) => {$(
        impl Bounded for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        }
    )*};
}
bounded!(i8 i16 i32 i64 u8 u16 u32 u64);

macro_rules! integers {
    ($($method:ident $visit:ident $t:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.integer::<$t>()?)
        }
    )*};
}

/// `true`/`false` in any case, and the spellings shells and CI files use for them.
fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn quoted(text: impl Display) -> String {
    format!("`{text}`")
}

impl IntoDeserializer<'_, Error> for Leaf<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Leaf<'_> {
    type Error = Error;

    /// Text, durations and anything else a field reads from a string.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.keep(toml::Value::String(self.text.into()));
        visitor.visit_str(self.text)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = boolean(self.text).ok_or_else(|| {
            Error::custom(format!(
                "{} is not a boolean: use true or false (or yes/no, 1/0)",
                quoted(self.text)
            ))
        })?;
        self.keep(toml::Value::Boolean(value));
        visitor.visit_bool(value)
    }

    integers! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value: f64 = self
            .text
            .trim()
            .parse()
            .map_err(|_| Error::custom(format!("{} is not a number", quoted(self.text))))?;
        self.keep(toml::Value::Float(value));
        visitor.visit_f64(value)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    /// Set at all: some (an empty variable is an empty value, as for a string).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
