//! Which operations destroy data, forward and when unapplied: the one place that
//! decides it and words it, for `makemigrations`' question, `migrate --plan` and the
//! lines `migrate` prints while it applies or rolls back.
//!
//! Dropping a table or a column loses its data; so does a type change to a type
//! that cannot hold every value of the old one (a shorter varchar, a smaller
//! integer, less decimal precision): strata never casts with truncation, so such a
//! change fails on data that does not fit — or, written by hand, loses it. A change
//! to NOT NULL can fail on NULLs but loses nothing, so it is not listed.

use std::fmt;

use crate::ast::Operation;
use crate::state::{SchemaState, StateError};
use crate::types::ColumnType;

/// Data an operation destroys (or, for a narrowing change, may refuse to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataLoss {
    Table {
        table: String,
    },
    Column {
        table: String,
        column: String,
    },
    Narrowing {
        table: String,
        column: String,
        from: ColumnType,
        to: ColumnType,
    },
}

impl fmt::Display for DataLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataLoss::Table { table } => write!(f, "drops data: table {table} and its rows"),
            DataLoss::Column { table, column } => {
                write!(f, "drops data: column {table}.{column} and its values")
            }
            DataLoss::Narrowing {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "narrows {table}.{column} from {from} to {to}: data that does not fit stops the migration"
            ),
        }
    }
}

impl Operation {
    /// The data `self` destroys when applied to `before`; `None` when it keeps all
    /// data, or cannot be known (`run_sql`).
    pub fn destroys_data(&self, before: &SchemaState) -> Option<DataLoss> {
        match self {
            Operation::DropTable(d) => Some(DataLoss::Table {
                table: d.name.clone(),
            }),
            Operation::DropColumn(d) => Some(DataLoss::Column {
                table: d.table.clone(),
                column: d.column.clone(),
            }),
            Operation::AlterColumn(a) => {
                let to = a.ty?;
                let from = before.table(&a.table).ok()?.column(&a.column)?.ty;
                narrows(from, to).then(|| DataLoss::Narrowing {
                    table: a.table.clone(),
                    column: a.column.clone(),
                    from,
                    to,
                })
            }
            _ => None,
        }
    }

    /// The data unapplying `self` destroys, `before` being the state `self` was
    /// applied to: unapplying a `create_table` drops the table, an `add_column` the
    /// column, a widening the wider values.
    pub fn undo_destroys_data(&self, before: &SchemaState) -> Option<DataLoss> {
        let mut after = before.clone();
        self.apply_noting_undo_loss(&mut after).ok().flatten()
    }

    /// Applies `self` to `state` and returns what [`Operation::undo_destroys_data`]
    /// would of the state before: for a walk that applies every operation anyway,
    /// without a copy of the schema per operation.
    pub fn apply_noting_undo_loss(
        &self,
        state: &mut SchemaState,
    ) -> Result<Option<DataLoss>, StateError> {
        let inverse = self.inverse(state).ok();
        state.apply(self)?;
        Ok(inverse.and_then(|inverse| inverse.destroys_data(state)))
    }
}

/// Whether a column of type `from` may hold a value that type `to` cannot.
fn narrows(from: ColumnType, to: ColumnType) -> bool {
    use ColumnType as T;
    if from == to {
        return false;
    }
    match (from, to) {
        // Anything but bytes reads as text; char and varchar hold at most their length.
        (T::Bytes, _) | (_, T::Bytes) => true,
        (_, T::Text) => false,
        (_, T::Char(n) | T::Varchar(n)) => text_width(from).is_none_or(|w| w > n),
        // Signed ↔ unsigned loses the negatives or the upper half: the fit rules know.
        (a, b) if a.is_integer() && b.is_integer() => a.fit(b).is_some(),
        (a, T::Decimal { precision, scale }) if a.is_integer() => {
            u32::from(precision.saturating_sub(scale)) < int_digits(a)
        }
        (T::Decimal { precision, scale }, b) if b.is_integer() => {
            scale > 0 || u32::from(precision) > int_digits(b)
        }
        (
            T::Decimal {
                precision: p1,
                scale: s1,
            },
            T::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => s2 < s1 || p2.saturating_sub(s2) < p1.saturating_sub(s1),
        // Floats hold the smaller integers exactly; dates fit in timestamps.
        (T::Real | T::Int, T::Double)
        | (T::SmallInt, T::Real | T::Double)
        | (T::Date, T::DateTime | T::TimestampTz)
        | (T::DateTime, T::TimestampTz) => false,
        _ => true,
    }
}

/// Characters the longest value of `ty` takes as text, when bounded.
fn text_width(ty: ColumnType) -> Option<u32> {
    use ColumnType as T;
    match ty {
        T::Char(n) | T::Varchar(n) => Some(n),
        // `false`, `65535`.
        T::Bool | T::USmallInt => Some(5),
        T::SmallInt => Some(6),
        T::Int => Some(11),
        T::BigInt | T::UBigInt => Some(20),
        // Sign, point, digits.
        T::Decimal { precision, .. } => Some(u32::from(precision) + 2),
        // `2024-01-31`, `4294967295`.
        T::Date | T::UInt => Some(10),
        T::Time => Some(15),
        T::Uuid => Some(36),
        _ => None,
    }
}

/// Decimal digits every value of an integer type fits in (`SmallInt`: 32767, 5).
fn int_digits(ty: ColumnType) -> u32 {
    match ty {
        ColumnType::SmallInt | ColumnType::USmallInt => 5,
        ColumnType::Int | ColumnType::UInt => 10,
        ColumnType::UBigInt => 20,
        _ => 19,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(text: &str) -> Operation {
        toml::from_str(text).expect("an operation")
    }

    #[test]
    fn drops_and_narrowing_destroy_data_forward_and_creations_when_undone() {
        let create = op(r#"
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "name", type = "varchar(50)" }]
"#);
        let empty = SchemaState::new();
        assert_eq!(create.destroys_data(&empty), None);
        assert_eq!(
            create.undo_destroys_data(&empty),
            Some(DataLoss::Table {
                table: "item".into()
            })
        );
        let mut state = empty.clone();
        state.apply(&create).unwrap();
        let add = op(r#"
kind = "add_column"
table = "item"
column = { name = "note", type = "text", null = true }
"#);
        assert_eq!(add.destroys_data(&state), None);
        assert_eq!(
            add.undo_destroys_data(&state).map(|l| l.to_string()),
            Some("drops data: column item.note and its values".into())
        );
        let drop = op("kind = \"drop_column\"\ntable = \"item\"\ncolumn = \"name\"\n");
        assert_eq!(
            drop.destroys_data(&state),
            Some(DataLoss::Column {
                table: "item".into(),
                column: "name".into()
            })
        );
        // Undoing a drop adds the column back: nothing is lost by that.
        assert_eq!(drop.undo_destroys_data(&state), None);
        let alter = |ty: &str| {
            op(&format!(
                "kind = \"alter_column\"\ntable = \"item\"\ncolumn = \"name\"\ntype = \"{ty}\"\n"
            ))
        };
        assert!(matches!(
            alter("varchar(10)").destroys_data(&state),
            Some(DataLoss::Narrowing { .. })
        ));
        assert_eq!(alter("varchar(80)").destroys_data(&state), None);
        // Widening is undone by narrowing back.
        assert!(alter("varchar(80)").undo_destroys_data(&state).is_some());
        let not_null =
            op("kind = \"alter_column\"\ntable = \"item\"\ncolumn = \"name\"\nnull = true\n");
        assert_eq!(not_null.destroys_data(&state), None);
    }

    #[test]
    fn widening_keeps_data_and_narrowing_does_not() {
        use ColumnType as T;
        let widening = [
            (T::Varchar(10), T::Varchar(20)),
            (T::Varchar(10), T::Text),
            (T::SmallInt, T::BigInt),
            (
                T::Int,
                T::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            (
                T::Decimal {
                    precision: 10,
                    scale: 2,
                },
                T::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            (T::Date, T::DateTime),
            (T::Int, T::Varchar(11)),
        ];
        for (from, to) in widening {
            assert!(!narrows(from, to), "{from} -> {to}");
        }
        let narrowing = [
            (T::Varchar(100), T::Varchar(2)),
            (T::Text, T::Varchar(200)),
            (T::BigInt, T::Int),
            (
                T::Decimal {
                    precision: 12,
                    scale: 2,
                },
                T::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            (
                T::Decimal {
                    precision: 12,
                    scale: 4,
                },
                T::Decimal {
                    precision: 14,
                    scale: 2,
                },
            ),
            (
                T::Decimal {
                    precision: 5,
                    scale: 1,
                },
                T::BigInt,
            ),
            (T::DateTime, T::Date),
            (T::Double, T::Real),
            (T::Text, T::Int),
            (T::Int, T::Varchar(5)),
            (T::Bytes, T::Text),
        ];
        for (from, to) in narrowing {
            assert!(narrows(from, to), "{from} -> {to}");
        }
    }
}
