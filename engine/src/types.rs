//! Neutral column types: the vocabulary shared by models, migrations and every dialect.
//!
//! A type is written as a short string (`"varchar(50)"`, `"decimal(12,2)"`) in both
//! `models.toml` and migration files, so it serializes through `Display`/`FromStr`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A column type every dialect can map. See the mapping table in `docs/types.md`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Bool,
    SmallInt,
    Int,
    BigInt,
    Real,
    Double,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Char(u32),
    Varchar(u32),
    /// Also the type of a `ColumnDef::default()`, which every real column overrides.
    #[default]
    Text,
    Bytes,
    Date,
    Time,
    DateTime,
    TimestampTz,
    Uuid,
    Json,
    /// A length of time: PostgreSQL `interval`; elsewhere `bigint` microseconds, as
    /// Django stores a `DurationField`.
    Duration,
    /// Integers that hold no negative value: MySQL's `… unsigned`, elsewhere the signed
    /// type with a `CHECK (col >= 0)` that introspection reads back as this type.
    USmallInt,
    UInt,
    UBigInt,
    /// One of a fixed list of strings, the list being the column's `values`: MySQL's
    /// `ENUM(…)`, elsewhere `text` with a type check `col IN (…)` (see `type_checks`).
    Enum,
}

impl ColumnType {
    /// Integer types may carry the `auto` (auto-increment) flag.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Self::SmallInt
                | Self::Int
                | Self::BigInt
                | Self::USmallInt
                | Self::UInt
                | Self::UBigInt
        )
    }

    /// The unsigned integer types, which every backend but MySQL stores as the signed
    /// type of the same size with a hidden `CHECK (col >= 0)`.
    pub fn is_unsigned(self) -> bool {
        matches!(self, Self::USmallInt | Self::UInt | Self::UBigInt)
    }

    /// The signed type of the same size: what an unsigned type is stored as where
    /// unsigned integers do not exist.
    pub fn signed(self) -> Self {
        match self {
            Self::USmallInt => Self::SmallInt,
            Self::UInt => Self::Int,
            Self::UBigInt => Self::BigInt,
            other => other,
        }
    }

    /// The unsigned type of the same size as a signed integer type.
    pub fn unsigned(self) -> Option<Self> {
        match self {
            Self::SmallInt => Some(Self::USmallInt),
            Self::Int => Some(Self::UInt),
            Self::BigInt => Some(Self::UBigInt),
            _ => None,
        }
    }

    /// Types whose literal defaults are written as SQL strings.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            Self::Char(_) | Self::Varchar(_) | Self::Text | Self::Uuid | Self::Json | Self::Enum
        )
    }

    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            Self::Date | Self::Time | Self::DateTime | Self::TimestampTz
        )
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::SmallInt
                | Self::Int
                | Self::BigInt
                | Self::USmallInt
                | Self::UInt
                | Self::UBigInt
                | Self::Real
                | Self::Double
                | Self::Decimal { .. }
        )
    }

    /// Every type name, in the order of the documentation table; used for "did you mean".
    pub const NAMES: &'static [&'static str] = &[
        "bool",
        "smallint",
        "int",
        "bigint",
        "real",
        "double",
        "decimal(p,s)",
        "char(n)",
        "varchar(n)",
        "text",
        "bytes",
        "date",
        "time",
        "datetime",
        "timestamptz",
        "uuid",
        "json",
        "duration",
        "smallint unsigned",
        "int unsigned",
        "bigint unsigned",
        "enum",
    ];
}

/// The backends a column's `collation` names one for (MariaDB is `mysql`).
pub const COLLATION_BACKENDS: &[&str] = &["sqlite", "postgres", "mysql"];

/// Why a collation map cannot be used, or `None`: each key a backend of
/// [`COLLATION_BACKENDS`], each name made of letters, digits and `_ - . @` (it is
/// written into DDL, quoted as an identifier).
pub fn collation_problem(collation: &std::collections::BTreeMap<String, String>) -> Option<String> {
    for (backend, name) in collation {
        if !COLLATION_BACKENDS.contains(&backend.as_str()) {
            return Some(format!(
                "unknown backend `{backend}` in `collation` (known: {})",
                COLLATION_BACKENDS.join(", ")
            ));
        }
        let fine = |c: char| c.is_ascii_alphanumeric() || "_-.@".contains(c);
        if name.is_empty() || name.len() > 64 || !name.chars().all(fine) {
            return Some(format!(
                "collation {name:?} ({backend}) must be 1 to 64 letters, digits or `_ - . @`"
            ));
        }
    }
    None
}

/// The longest value an `enum` holds: MySQL's limit for an `ENUM` element.
pub const ENUM_VALUE_MAX_CHARS: usize = 255;

/// Why an `enum` value list cannot be used, or `None` when it can: it is spliced into
/// DDL (quoted), so it must be a non-empty list of distinct, non-empty, printable
/// strings of at most [`ENUM_VALUE_MAX_CHARS`] characters.
pub fn enum_values_problem(values: &[String]) -> Option<String> {
    if values.is_empty() {
        return Some("an enum needs at least one value in `values`".into());
    }
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() {
            return Some("an enum value cannot be empty".into());
        }
        if v.chars().any(char::is_control) {
            return Some(format!("enum value {v:?} contains a control character"));
        }
        if v.chars().count() > ENUM_VALUE_MAX_CHARS {
            return Some(format!(
                "enum value {v:?} is longer than {ENUM_VALUE_MAX_CHARS} characters"
            ));
        }
        if values[..i].contains(v) {
            return Some(format!("enum value {v:?} is listed twice"));
        }
    }
    None
}

/// What every value must satisfy to pass from one type to a narrower one unchanged:
/// the neutral meaning of "does not fit", checked by a guard before a type change on
/// every backend (see [`ColumnType::fit`] and docs/types.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// At most this many characters (as text, in the new type's spelling).
    Chars(u32),
    /// A whole number within `min..=max`; `whole` when the old type can hold fractions.
    Integer { min: i64, max: i64, whole: bool },
    /// At most `precision - scale` digits before the point and `scale` after it.
    Decimal { precision: u8, scale: u8 },
    /// Within a `real`'s range, ±[`REAL_MAX`] (fractions round to its precision).
    RealRange,
    /// A whole number within ±`limit`, beyond which the float type cannot hold every
    /// one (2^24 for `real`, 2^53 for `double`): an integer becoming a float.
    Exact { limit: i64 },
    /// `0` or `1`: a number becoming a boolean.
    Bool,
    /// A date and time whose time of day is midnight: becoming a date.
    Midnight,
    /// No value fits: the change always drops a part (a date and time becoming a time).
    Nothing,
}

impl Fit {
    /// What a misfit is, for messages: "longer than 2 characters".
    pub fn describe(self) -> String {
        match self {
            Self::Chars(n) => format!("longer than {n} characters"),
            Self::Integer { min, max, whole } => format!(
                "{}outside {min}..={max}",
                if whole { "not a whole number, or " } else { "" }
            ),
            Self::Decimal { precision, scale } => format!(
                "with more than {} digits before the point or {scale} after it",
                precision - scale
            ),
            Self::RealRange => format!("beyond ±{REAL_MAX:e}"),
            Self::Exact { limit } => {
                format!("beyond ±{limit}, where the new type cannot hold every whole number")
            }
            Self::Bool => "neither 0 nor 1".into(),
            Self::Midnight => "with a time of day other than midnight".into(),
            Self::Nothing => "not null (the change drops part of every value)".into(),
        }
    }
}

/// The range of each integer type.
const SMALLINT: (i64, i64) = (i16::MIN as i64, i16::MAX as i64);
const INT: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
/// `real`'s largest finite value (`f32::MAX`); `{:e}` writes a literal every database reads.
pub const REAL_MAX: f64 = 3.402_823_466_385_288_6e38;

impl ColumnType {
    /// The check a type change from `self` to `to` needs so that no value is truncated,
    /// rounded or otherwise changed in passing; `None` when every value converts
    /// unchanged, or when the conversion itself fails on a value it cannot take (text
    /// into `int` on PostgreSQL and strict MySQL; SQLite keeps such values as they
    /// are). Conversions into `real`/`double` round to that type's precision by nature;
    /// only values out of its range count as not fitting.
    pub fn fit(self, to: ColumnType) -> Option<Fit> {
        use ColumnType as T;
        if self == to {
            return None;
        }
        match to {
            T::Char(n) | T::Varchar(n) => match self.max_chars() {
                Some(m) if m <= n => None,
                _ => Some(Fit::Chars(n)),
            },
            // MySQL's `uuid` is `char(36)`: longer text would be cut there.
            T::Uuid => match self {
                T::Text | T::Json => Some(Fit::Chars(36)),
                T::Char(m) | T::Varchar(m) if m > 36 => Some(Fit::Chars(36)),
                _ => None,
            },
            T::SmallInt | T::Int | T::BigInt | T::USmallInt | T::UInt | T::UBigInt => {
                let (min, max) = to.integer_range()?;
                let whole = matches!(self, T::Real | T::Double)
                    || matches!(self, T::Decimal { scale, .. } if scale > 0);
                let wider = match self {
                    T::Bool => false,
                    // decimal(10,0) holds 9999999999, beyond an int's 2147483647.
                    T::Decimal { precision, scale } => precision - scale >= to.integer_digits(),
                    T::Real | T::Double => true,
                    from => match from.integer_range() {
                        Some((lo, hi)) => lo < min || hi > max,
                        None => return None,
                    },
                };
                // `bigint unsigned` goes beyond an i64; a source that could too is
                // only `bigint unsigned` itself, which needs no check.
                let clamp =
                    |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
                (whole || wider).then_some(Fit::Integer {
                    min: clamp(min),
                    max: clamp(max),
                    whole,
                })
            }
            T::Decimal { precision, scale } => {
                let narrower = match self {
                    T::Decimal {
                        precision: p,
                        scale: s,
                    } => s > scale || p - s > precision - scale,
                    t if t.is_integer() => self.integer_digits() > precision - scale,
                    T::Real | T::Double | T::Text | T::Char(_) | T::Varchar(_) => true,
                    _ => false,
                };
                narrower.then_some(Fit::Decimal { precision, scale })
            }
            T::Real if self == T::Double => Some(Fit::RealRange),
            // Whole numbers beyond the float's mantissa would round; fractions of a
            // decimal round to its precision, which is what a float means.
            T::Real | T::Double => {
                let (limit, digits) = if to == T::Real {
                    (1 << 24, 7)
                } else {
                    (1 << 53, 15)
                };
                let wider = match self {
                    t if t.is_integer() => self.integer_digits() > digits,
                    T::Decimal { precision, scale } => precision - scale > digits,
                    _ => false,
                };
                wider.then_some(Fit::Exact { limit })
            }
            T::Bool => self.is_numeric().then_some(Fit::Bool),
            T::Date => matches!(self, T::DateTime | T::TimestampTz).then_some(Fit::Midnight),
            T::Time => matches!(self, T::DateTime | T::TimestampTz).then_some(Fit::Nothing),
            _ => None,
        }
    }

    /// The longest text a value of this type can be, when it is bounded.
    fn max_chars(self) -> Option<u32> {
        match self {
            Self::Char(n) | Self::Varchar(n) => Some(n),
            Self::Uuid => Some(36),
            // `-32768`, `-2147483648`, `-9223372036854775808`, `false`; unsigned
            // `65535`, `4294967295`, `18446744073709551615`.
            Self::SmallInt => Some(6),
            Self::Int => Some(11),
            Self::BigInt | Self::UBigInt => Some(20),
            Self::Bool | Self::USmallInt => Some(5),
            // A sign, the digits and the point.
            Self::Decimal { precision, .. } => Some(u32::from(precision) + 2),
            // `2024-01-31`.
            Self::Date | Self::UInt => Some(10),
            _ => None,
        }
    }

    /// The decimal digits of the largest value of an integer type.
    fn integer_digits(self) -> u8 {
        match self {
            Self::SmallInt | Self::USmallInt => 5,
            Self::Int | Self::UInt => 10,
            Self::UBigInt => 20,
            _ => 19,
        }
    }

    /// The values an integer type holds. Unsigned types count with MySQL's range, the
    /// only backend with unsigned storage: elsewhere the signed type stores them and
    /// refuses the upper half by itself.
    fn integer_range(self) -> Option<(i128, i128)> {
        let signed = |(lo, hi): (i64, i64)| Some((i128::from(lo), i128::from(hi)));
        match self {
            Self::SmallInt => signed(SMALLINT),
            Self::Int => signed(INT),
            Self::BigInt => signed((i64::MIN, i64::MAX)),
            Self::USmallInt => Some((0, i128::from(u16::MAX))),
            Self::UInt => Some((0, i128::from(u32::MAX))),
            Self::UBigInt => Some((0, i128::from(u64::MAX))),
            _ => None,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool => f.write_str("bool"),
            Self::SmallInt => f.write_str("smallint"),
            Self::Int => f.write_str("int"),
            Self::BigInt => f.write_str("bigint"),
            Self::Real => f.write_str("real"),
            Self::Double => f.write_str("double"),
            Self::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Self::Char(n) => write!(f, "char({n})"),
            Self::Varchar(n) => write!(f, "varchar({n})"),
            Self::Text => f.write_str("text"),
            Self::Bytes => f.write_str("bytes"),
            Self::Date => f.write_str("date"),
            Self::Time => f.write_str("time"),
            Self::DateTime => f.write_str("datetime"),
            Self::TimestampTz => f.write_str("timestamptz"),
            Self::Uuid => f.write_str("uuid"),
            Self::Json => f.write_str("json"),
            Self::Duration => f.write_str("duration"),
            Self::USmallInt => f.write_str("smallint unsigned"),
            Self::UInt => f.write_str("int unsigned"),
            Self::UBigInt => f.write_str("bigint unsigned"),
            Self::Enum => f.write_str("enum"),
        }
    }
}

/// The spellings of the types without arguments, aliases included: the one list both
/// the parser and the JSON Schema's pattern read, so the two cannot disagree.
const SIMPLE_SPELLINGS: &[(&str, ColumnType)] = &[
    ("bool", ColumnType::Bool),
    ("boolean", ColumnType::Bool),
    ("smallint", ColumnType::SmallInt),
    ("int", ColumnType::Int),
    ("integer", ColumnType::Int),
    ("bigint", ColumnType::BigInt),
    ("real", ColumnType::Real),
    ("float", ColumnType::Real),
    ("double", ColumnType::Double),
    ("text", ColumnType::Text),
    ("bytes", ColumnType::Bytes),
    ("date", ColumnType::Date),
    ("time", ColumnType::Time),
    ("datetime", ColumnType::DateTime),
    ("timestamptz", ColumnType::TimestampTz),
    ("uuid", ColumnType::Uuid),
    ("json", ColumnType::Json),
    ("duration", ColumnType::Duration),
    ("smallint unsigned", ColumnType::USmallInt),
    ("int unsigned", ColumnType::UInt),
    ("integer unsigned", ColumnType::UInt),
    ("bigint unsigned", ColumnType::UBigInt),
    ("enum", ColumnType::Enum),
];

/// Why a type string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    #[error("unknown type `{name}` (known types: {known})", known = ColumnType::NAMES.join(", "))]
    Unknown { name: String },
    #[error("type `{name}` needs {expected}, e.g. `{example}`")]
    Arguments {
        name: String,
        expected: &'static str,
        example: &'static str,
    },
    #[error("type `{name}`: {reason}")]
    Invalid { name: String, reason: String },
}

impl FromStr for ColumnType {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let lower = compact.to_ascii_lowercase();
        let (base, args) = match lower.split_once('(') {
            Some((base, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| TypeError::Invalid {
                    name: s.to_string(),
                    reason: "missing closing parenthesis".into(),
                })?;
                (base, Some(inner))
            }
            None => (lower.as_str(), None),
        };
        let simple = |t: ColumnType| match args {
            None => Ok(t),
            Some(_) => Err(TypeError::Invalid {
                name: s.to_string(),
                reason: format!("`{base}` takes no arguments"),
            }),
        };
        let length = |make: fn(u32) -> ColumnType, example: &'static str| {
            let n = args
                .and_then(|a| a.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| TypeError::Arguments {
                    name: s.to_string(),
                    expected: "a positive length",
                    example,
                })?;
            Ok(make(n))
        };
        // The parser reads the text without its whitespace, so `int unsigned` is
        // compared as `intunsigned`.
        if let Some((_, ty)) = SIMPLE_SPELLINGS
            .iter()
            .find(|(name, _)| name.replace(' ', "") == base)
        {
            return simple(*ty);
        }
        match base {
            "char" => length(Self::Char, "char(2)"),
            "varchar" => length(Self::Varchar, "varchar(100)"),
            "decimal" => {
                let bad = || TypeError::Arguments {
                    name: s.to_string(),
                    expected: "precision and scale",
                    example: "decimal(12,2)",
                };
                let (p, sc) = args.and_then(|a| a.split_once(',')).ok_or_else(bad)?;
                let precision: u8 = p.parse().map_err(|_| bad())?;
                let scale: u8 = sc.parse().map_err(|_| bad())?;
                if precision == 0 || precision > 65 || scale > precision {
                    return Err(TypeError::Invalid {
                        name: s.to_string(),
                        reason: "precision must be 1..=65 and scale at most the precision".into(),
                    });
                }
                Ok(Self::Decimal { precision, scale })
            }
            _ => Err(TypeError::Unknown {
                name: s.to_string(),
            }),
        }
    }
}

impl Serialize for ColumnType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl ColumnType {
    /// A regular expression for exactly the spellings [`FromStr`] accepts (any case,
    /// whitespace anywhere, the aliases), except two range checks left to the parser:
    /// a `decimal`'s scale at most its precision, and a length that fits a `u32`.
    /// Only syntax that ECMA-262 (editors) and Rust's `regex` read alike.
    pub fn spelling_pattern() -> String {
        // The parser drops every whitespace character before it reads the type, so the
        // pattern allows `\s*` between any two characters.
        const GAP: &str = r"\s*";
        let word = |w: &str| -> String {
            w.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| format!("[{c}{}]", c.to_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(GAP)
        };
        let alternatives = |words: Vec<String>| format!("(?:{})", words.join("|"));
        // `u32`/`u8` parsing takes a leading `+` and zeros.
        let lead = format!(r"(?:\+{GAP})?(?:0{GAP})*");
        let positive = format!("{lead}[1-9](?:{GAP}[0-9])*");
        let precision = format!("{lead}(?:[1-5]{GAP}[0-9]|6{GAP}[0-5]|[1-9])");
        let scale = format!("{lead}(?:[1-5]{GAP}[0-9]|6{GAP}[0-5]|[0-9])");

        let simple = alternatives(SIMPLE_SPELLINGS.iter().map(|(n, _)| word(n)).collect());
        let with = |suffix: &str| -> String {
            let bases = Self::NAMES
                .iter()
                .filter_map(|n| n.strip_suffix(suffix))
                .map(word)
                .collect();
            alternatives(bases)
        };
        let length = format!(r"{}{GAP}\({GAP}{positive}{GAP}\)", with("(n)"));
        let decimal = format!(
            r"{}{GAP}\({GAP}{precision}{GAP},{GAP}{scale}{GAP}\)",
            with("(p,s)")
        );
        format!("^{GAP}(?:{simple}|{length}|{decimal}){GAP}$")
    }

    /// Every type name, with example arguments: what an editor offers.
    fn examples() -> impl Iterator<Item = &'static str> {
        Self::NAMES.iter().map(|name| match *name {
            "decimal(p,s)" => "decimal(12,2)",
            "char(n)" => "char(2)",
            "varchar(n)" => "varchar(100)",
            simple => simple,
        })
    }
}

/// A string: the completions an editor offers, and a pattern that accepts every
/// spelling the parser accepts.
impl JsonSchema for ColumnType {
    fn schema_name() -> Cow<'static, str> {
        "ColumnType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let aliases: Vec<String> = SIMPLE_SPELLINGS
            .iter()
            .filter(|(name, _)| !Self::NAMES.contains(name))
            .map(|(name, ty)| format!("`{name}` ({ty})"))
            .collect();
        let description = format!(
            "A neutral column type: {}. Case and spaces do not matter; aliases: {}. \
             Each dialect's spelling: docs/types.md.",
            Self::NAMES
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            aliases.join(", "),
        );
        json_schema!({
            "type": "string",
            "description": description,
            "anyOf": [
                { "enum": Self::examples().collect::<Vec<_>>() },
                { "pattern": Self::spelling_pattern() },
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_string() {
        let all = [
            ColumnType::Bool,
            ColumnType::SmallInt,
            ColumnType::Int,
            ColumnType::BigInt,
            ColumnType::Real,
            ColumnType::Double,
            ColumnType::Decimal {
                precision: 12,
                scale: 2,
            },
            ColumnType::Char(3),
            ColumnType::Varchar(150),
            ColumnType::Text,
            ColumnType::Bytes,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::DateTime,
            ColumnType::TimestampTz,
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::Duration,
            ColumnType::USmallInt,
            ColumnType::UInt,
            ColumnType::UBigInt,
            ColumnType::Enum,
        ];
        for t in all {
            assert_eq!(t.to_string().parse::<ColumnType>().unwrap(), t);
        }
    }

    #[test]
    fn narrowings_need_a_fit_check_and_widenings_do_not() {
        let t = |s: &str| s.parse::<ColumnType>().unwrap();
        let cases = [
            ("varchar(100)", "varchar(2)", Some(Fit::Chars(2))),
            ("text", "char(3)", Some(Fit::Chars(3))),
            ("int", "varchar(11)", None),
            ("int", "varchar(10)", Some(Fit::Chars(10))),
            ("varchar(2)", "varchar(100)", None),
            ("varchar(2)", "text", None),
            ("text", "uuid", Some(Fit::Chars(36))),
            (
                "bigint",
                "int",
                Some(Fit::Integer {
                    min: INT.0,
                    max: INT.1,
                    whole: false,
                }),
            ),
            ("int", "bigint", None),
            ("smallint", "int", None),
            (
                "double",
                "bigint",
                Some(Fit::Integer {
                    min: i64::MIN,
                    max: i64::MAX,
                    whole: true,
                }),
            ),
            ("decimal(9,0)", "int", None),
            (
                "decimal(10,0)",
                "int",
                Some(Fit::Integer {
                    min: INT.0,
                    max: INT.1,
                    whole: false,
                }),
            ),
            (
                "decimal(12,2)",
                "bigint",
                Some(Fit::Integer {
                    min: i64::MIN,
                    max: i64::MAX,
                    whole: true,
                }),
            ),
            (
                "decimal(10,3)",
                "decimal(10,2)",
                Some(Fit::Decimal {
                    precision: 10,
                    scale: 2,
                }),
            ),
            (
                "decimal(10,2)",
                "decimal(4,2)",
                Some(Fit::Decimal {
                    precision: 4,
                    scale: 2,
                }),
            ),
            ("decimal(10,2)", "decimal(12,2)", None),
            ("int", "decimal(10,0)", None),
            (
                "int",
                "decimal(9,0)",
                Some(Fit::Decimal {
                    precision: 9,
                    scale: 0,
                }),
            ),
            ("double", "real", Some(Fit::RealRange)),
            ("real", "double", None),
            ("smallint", "real", None),
            ("int", "real", Some(Fit::Exact { limit: 1 << 24 })),
            ("int", "double", None),
            ("bigint", "double", Some(Fit::Exact { limit: 1 << 53 })),
            (
                "decimal(30,0)",
                "double",
                Some(Fit::Exact { limit: 1 << 53 }),
            ),
            ("decimal(12,2)", "double", None),
            ("int", "bool", Some(Fit::Bool)),
            ("bool", "int", None),
            ("datetime", "date", Some(Fit::Midnight)),
            ("date", "datetime", None),
            ("timestamptz", "time", Some(Fit::Nothing)),
            ("text", "int", None),
        ];
        for (from, to, fit) in cases {
            assert_eq!(t(from).fit(t(to)), fit, "{from} → {to}");
        }
    }

    #[test]
    fn signed_unsigned_changes_check_the_sign_and_the_range() {
        let t = |s: &str| s.parse::<ColumnType>().unwrap();
        let cases = [
            (
                "int",
                "int unsigned",
                Some(Fit::Integer {
                    min: 0,
                    max: i64::from(u32::MAX),
                    whole: false,
                }),
            ),
            (
                "int unsigned",
                "int",
                Some(Fit::Integer {
                    min: INT.0,
                    max: INT.1,
                    whole: false,
                }),
            ),
            ("smallint unsigned", "int", None),
            ("int unsigned", "bigint", None),
            ("int unsigned", "bigint unsigned", None),
            (
                "bigint unsigned",
                "bigint",
                Some(Fit::Integer {
                    min: i64::MIN,
                    max: i64::MAX,
                    whole: false,
                }),
            ),
            (
                "bigint",
                "bigint unsigned",
                Some(Fit::Integer {
                    min: 0,
                    max: i64::MAX,
                    whole: false,
                }),
            ),
            ("smallint unsigned", "varchar(5)", None),
            ("duration", "bigint", None),
            ("bigint", "duration", None),
        ];
        for (from, to, fit) in cases {
            assert_eq!(t(from).fit(t(to)), fit, "{from} → {to}");
        }
    }

    #[test]
    fn unsigned_types_read_with_any_spacing() {
        for s in ["int unsigned", "INTEGER  UNSIGNED", "intunsigned"] {
            assert_eq!(s.parse::<ColumnType>().unwrap(), ColumnType::UInt, "{s}");
        }
    }

    #[test]
    fn spacing_and_case_are_forgiven() {
        assert_eq!(
            "DECIMAL( 12, 2 )".parse::<ColumnType>().unwrap(),
            ColumnType::Decimal {
                precision: 12,
                scale: 2
            }
        );
    }

    #[test]
    fn bad_types_say_why() {
        assert!(matches!(
            "varchr(5)".parse::<ColumnType>(),
            Err(TypeError::Unknown { .. })
        ));
        assert!(matches!(
            "varchar".parse::<ColumnType>(),
            Err(TypeError::Arguments { .. })
        ));
        assert!(matches!(
            "decimal(2,5)".parse::<ColumnType>(),
            Err(TypeError::Invalid { .. })
        ));
        assert!(matches!(
            "text(5)".parse::<ColumnType>(),
            Err(TypeError::Invalid { .. })
        ));
    }
}
