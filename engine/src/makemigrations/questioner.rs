//! The questions `makemigrations` cannot answer alone — was this a rename? what value
//! do existing rows get? — behind one trait, as Django's questioners: the
//! [`Interactive`] one asks on a terminal (or any reader and writer), the
//! [`NonInteractive`] one never asks, so [`decide`] refuses with every open question
//! listed. A front end picks one; the flow is the same.

use std::io::{BufRead, Write};

use crate::ast::DefaultValue;
use crate::autodetect::{self, AutodetectError, Decisions, RenameCandidate, RenameKind};
use crate::data_loss::DataLoss;
use crate::migration::MigrationKey;
use crate::models::Models;
use crate::state::{default_fits, SchemaState};
use crate::types::ColumnType;

/// A column added NOT NULL without a default to a table that has rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewColumn<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub ty: ColumnType,
}

/// A column that becomes NOT NULL, without a default, on a table that may hold rows
/// where it is NULL.
pub type AlteredColumn<'a> = NewColumn<'a>;

/// What the rows where a column that becomes NOT NULL is NULL get.
#[derive(Debug, Clone, PartialEq)]
pub enum NotNullAnswer {
    /// This value, by a `backfill` before the `alter_column`.
    Value(DefaultValue),
    /// Nothing: there are no such rows, or the user fills them (Django's "ignore
    /// for now"); the migration only alters the column.
    NoNulls,
}

/// Answers `makemigrations`' questions.
pub trait Questioner {
    /// Whether questions can be asked one at a time. When not, `decide` refuses
    /// at once with all open questions, for the caller to list.
    fn can_ask(&self) -> bool;

    /// Whether `candidate` is a rename.
    fn ask_rename(&mut self, candidate: &RenameCandidate) -> std::io::Result<bool>;

    /// The value existing rows get for `column`; `None`: no answer.
    fn ask_default(&mut self, column: &NewColumn<'_>) -> std::io::Result<Option<DefaultValue>>;

    /// What the NULL rows of `column`, which becomes NOT NULL, get; `None`: no
    /// answer.
    fn ask_not_null(
        &mut self,
        column: &AlteredColumn<'_>,
    ) -> std::io::Result<Option<NotNullAnswer>> {
        let _ = column;
        Ok(None)
    }

    /// Whether to write migrations that destroy data: `losses` by migration.
    fn confirm_data_loss(&mut self, losses: &[(MigrationKey, DataLoss)]) -> std::io::Result<bool>;
}

/// Never asks: open questions are an error listing them all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NonInteractive;

impl Questioner for NonInteractive {
    fn can_ask(&self) -> bool {
        false
    }

    fn ask_rename(&mut self, _: &RenameCandidate) -> std::io::Result<bool> {
        Ok(false)
    }

    fn ask_default(&mut self, _: &NewColumn<'_>) -> std::io::Result<Option<DefaultValue>> {
        Ok(None)
    }

    fn confirm_data_loss(&mut self, _: &[(MigrationKey, DataLoss)]) -> std::io::Result<bool> {
        Ok(false)
    }
}

/// Asks on `output` and reads the answers from `input`, naming models and fields as
/// the user wrote them in models.toml.
pub struct Interactive<'m, R, W> {
    pub input: R,
    pub output: W,
    pub models: &'m Models,
}

impl<R: BufRead, W: Write> Interactive<'_, R, W> {
    /// A literal of `ty`, asked until one fits; `None` for an empty answer.
    fn ask_literal(
        &mut self,
        question: &str,
        ty: ColumnType,
    ) -> std::io::Result<Option<DefaultValue>> {
        loop {
            let answer = self.ask(question)?;
            if answer.is_empty() {
                return Ok(None);
            }
            match DefaultValue::parse_literal(&answer).filter(|v| default_fits(v, ty)) {
                Some(value) => return Ok(Some(value)),
                None => writeln!(self.output, "That is not a {ty} literal; try again.")?,
            }
        }
    }

    fn ask(&mut self, question: &str) -> std::io::Result<String> {
        write!(self.output, "{question}")?;
        self.output.flush()?;
        let mut line = String::new();
        self.input.read_line(&mut line)?;
        Ok(line.trim().to_string())
    }
}

impl<R: BufRead, W: Write> Questioner for Interactive<'_, R, W> {
    fn can_ask(&self) -> bool {
        true
    }

    fn ask_rename(&mut self, candidate: &RenameCandidate) -> std::io::Result<bool> {
        // A changed column is renamed, then altered: the question says what else
        // changes, as declining it means dropping the column and its data.
        let change = candidate
            .change
            .as_ref()
            .map(|c| format!(" (and changed: {c})"))
            .unwrap_or_default();
        let question = format!(
            "Was {} renamed to {}{change}? [y/N] ",
            rename_label(candidate, self.models),
            candidate.to
        );
        Ok(self.ask(&question)?.eq_ignore_ascii_case("y"))
    }

    fn ask_default(&mut self, column: &NewColumn<'_>) -> std::io::Result<Option<DefaultValue>> {
        let ty = column.ty;
        let question = format!(
            "{} is added NOT NULL without a default; existing rows need a value.\nOne-off default ({ty}; a TOML literal such as 0, \"text\", true): ",
            self.models.column_label(column.table, column.column)
        );
        self.ask_literal(&question, ty)
    }

    /// As Django asks it: a one-off value now, or "there are none / I fill them".
    fn ask_not_null(
        &mut self,
        column: &AlteredColumn<'_>,
    ) -> std::io::Result<Option<NotNullAnswer>> {
        let ty = column.ty;
        let label = self.models.column_label(column.table, column.column);
        writeln!(
            self.output,
            "{label} becomes NOT NULL without a default; rows where it is NULL would make the migration fail.\n 1) Give a one-off value for those rows now (a backfill before the change)\n 2) There are no such rows, or I fill them myself before migrating"
        )?;
        loop {
            match self
                .ask("Select an option [1/2, empty to stop]: ")?
                .as_str()
            {
                "" => return Ok(None),
                "1" => {
                    let question =
                        format!("One-off value ({ty}; a TOML literal such as 0, \"text\", true): ");
                    return Ok(self.ask_literal(&question, ty)?.map(NotNullAnswer::Value));
                }
                "2" => return Ok(Some(NotNullAnswer::NoNulls)),
                _ => writeln!(self.output, "Please answer 1 or 2.")?,
            }
        }
    }

    fn confirm_data_loss(&mut self, losses: &[(MigrationKey, DataLoss)]) -> std::io::Result<bool> {
        for (key, loss) in losses {
            writeln!(self.output, "{key} {loss}.")?;
        }
        Ok(self.ask("Continue? [y/N] ")?.eq_ignore_ascii_case("y"))
    }
}

/// How the models name the old side of a rename: `app.Model` or `app.Model.field`.
pub fn rename_label(candidate: &RenameCandidate, models: &Models) -> String {
    match candidate.kind {
        RenameKind::Table => models.table_label(&candidate.from),
        RenameKind::Column => models.column_label(&candidate.table, &candidate.from),
    }
}

/// Why `decide` could not settle the questions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuestionError {
    #[error(transparent)]
    Unanswered(#[from] AutodetectError),
    #[error("cannot ask: {0}")]
    Io(#[from] std::io::Error),
}

/// Settles what `decisions` leaves open between `old` and `new`: likely renames, one
/// at a time (a column question only follows an accepted table rename), then one-off
/// defaults. Without a questioner that can ask, refuses with every open question.
pub fn decide(
    old: &SchemaState,
    new: &SchemaState,
    mut decisions: Decisions,
    questioner: &mut dyn Questioner,
) -> Result<Decisions, QuestionError> {
    autodetect::check_renames(old, new, &decisions)?;
    if !decisions.no_rename {
        let open = autodetect::open_renames(old, new, &decisions);
        if !open.is_empty() && !questioner.can_ask() {
            return Err(AutodetectError::UnresolvedRenames(open).into());
        }
        let mut declined: Vec<RenameCandidate> = Vec::new();
        while let Some(candidate) = autodetect::open_renames(old, new, &decisions)
            .into_iter()
            .find(|c| !declined.contains(c))
        {
            if questioner.ask_rename(&candidate)? {
                decisions = decisions.accept(&candidate);
            } else {
                declined.push(candidate);
            }
        }
        decisions.no_rename = true;
    }
    let missing = autodetect::needs_one_off_default(old, new, &decisions);
    if !missing.is_empty() && !questioner.can_ask() {
        return Err(AutodetectError::NeedsDefault(missing).into());
    }
    for (table, column) in missing {
        let ty = new
            .tables
            .get(&table)
            .and_then(|t| t.column(&column))
            .map(|c| c.ty)
            .ok_or_else(|| AutodetectError::NeedsDefault(vec![(table.clone(), column.clone())]))?;
        let asked = NewColumn {
            table: &table,
            column: &column,
            ty,
        };
        match questioner.ask_default(&asked)? {
            Some(value) => {
                decisions.one_off_defaults.insert((table, column), value);
            }
            None => return Err(AutodetectError::NeedsDefault(vec![(table, column)]).into()),
        }
    }
    let missing = autodetect::needs_not_null_answer(old, new, &decisions);
    if !missing.is_empty() && !questioner.can_ask() {
        return Err(AutodetectError::NeedsNotNullAnswer(missing).into());
    }
    for (table, column) in missing {
        let unanswered =
            || AutodetectError::NeedsNotNullAnswer(vec![(table.clone(), column.clone())]);
        let ty = new
            .tables
            .get(&table)
            .and_then(|t| t.column(&column))
            .map(|c| c.ty)
            .ok_or_else(unanswered)?;
        let asked = AlteredColumn {
            table: &table,
            column: &column,
            ty,
        };
        match questioner.ask_not_null(&asked)? {
            Some(NotNullAnswer::Value(value)) => {
                decisions.one_off_defaults.insert((table, column), value);
            }
            Some(NotNullAnswer::NoNulls) => {
                decisions.no_nulls.insert((table, column));
            }
            None => return Err(unanswered().into()),
        }
    }
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ast::Operation;
    use crate::models;

    /// Models of one app and the schema they describe.
    fn shop(text: &str) -> Models {
        let app = models::parse_app("shop", Path::new("models.toml"), text).expect("models");
        models::resolve(&[app]).expect("resolve")
    }

    /// `old`: an item with a name; `new`: the name renamed to a title, plus a NOT NULL
    /// column without default.
    fn renamed_and_added() -> (Models, SchemaState, SchemaState) {
        let old = shop("[Item]\nfields.name = \"varchar(50)\"\n");
        let new = shop("[Item]\nfields.title = \"varchar(50)\"\nfields.stock = \"int\"\n");
        (new.clone(), old.state, new.state)
    }

    fn interactive<'m>(
        models: &'m Models,
        answers: &str,
    ) -> Interactive<'m, std::io::Cursor<Vec<u8>>, Vec<u8>> {
        Interactive {
            input: std::io::Cursor::new(answers.as_bytes().to_vec()),
            output: Vec::new(),
            models,
        }
    }

    #[test]
    fn non_interactive_refuses_with_every_open_rename() {
        let (_, old, new) = renamed_and_added();
        let error = decide(&old, &new, Decisions::default(), &mut NonInteractive).unwrap_err();
        let QuestionError::Unanswered(AutodetectError::UnresolvedRenames(open)) = error else {
            panic!("expected open renames, got {error:?}");
        };
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].from.as_str(), open[0].to.as_str()),
            ("name", "title")
        );
    }

    #[test]
    fn non_interactive_with_renames_settled_refuses_with_the_missing_defaults() {
        let (_, old, new) = renamed_and_added();
        let decisions = Decisions::default().rename_column("shop_item", "name", "title");
        let error = decide(&old, &new, decisions, &mut NonInteractive).unwrap_err();
        let QuestionError::Unanswered(AutodetectError::NeedsDefault(missing)) = error else {
            panic!("expected a missing default, got {error:?}");
        };
        assert_eq!(missing, [("shop_item".to_string(), "stock".to_string())]);
    }

    #[test]
    fn interactive_asks_the_rename_then_the_default_until_it_fits() {
        let (models, old, new) = renamed_and_added();
        let mut questioner = interactive(&models, "y\n\"many\"\n7\n");
        let decisions = decide(&old, &new, Decisions::default(), &mut questioner).unwrap();
        let asked = String::from_utf8(questioner.output).unwrap();
        assert!(
            asked.contains("Was shop.Item.name renamed to title? [y/N] "),
            "{asked}"
        );
        assert!(
            asked.contains("shop.Item.stock is added NOT NULL"),
            "{asked}"
        );
        assert!(
            asked.contains("That is not a int literal; try again."),
            "{asked}"
        );
        assert!(decisions.no_rename);
        assert_eq!(
            decisions.one_off_defaults[&("shop_item".to_string(), "stock".to_string())],
            DefaultValue::Int(7)
        );
        let ops = autodetect::diff(&old, &new, &decisions).unwrap();
        assert!(
            ops.iter().any(|op| op.kind() == "rename_column"),
            "the accepted rename is in the operations: {ops:?}"
        );
    }

    #[test]
    fn a_rename_answer_that_does_not_fit_is_refused_before_any_question() {
        let (models, old, new) = renamed_and_added();
        let typo = Decisions::default().rename_column("shop_item", "name", "titel");
        let mut questioner = interactive(&models, "y\n0\n");
        let error = decide(&old, &new, typo, &mut questioner).unwrap_err();
        assert!(
            matches!(
                error,
                QuestionError::Unanswered(AutodetectError::InvalidRename { .. })
            ),
            "{error:?}"
        );
        assert!(questioner.output.is_empty(), "nothing was asked");
    }

    #[test]
    fn data_loss_is_listed_then_confirmed_only_by_yes() {
        let (models, _, _) = renamed_and_added();
        let losses = [(
            MigrationKey::new("shop", "0002_remove_item_name"),
            DataLoss::Column {
                table: "shop_item".into(),
                column: "name".into(),
            },
        )];
        assert!(!NonInteractive.confirm_data_loss(&losses).unwrap());
        for (answer, confirmed) in [
            ("y\n", true),
            ("Y\n", true),
            ("n\n", false),
            ("\n", false),
            ("yes please\n", false),
        ] {
            let mut questioner = interactive(&models, answer);
            assert_eq!(
                questioner.confirm_data_loss(&losses).unwrap(),
                confirmed,
                "{answer:?}"
            );
            let asked = String::from_utf8(questioner.output).unwrap();
            assert_eq!(
                asked,
                "shop.0002_remove_item_name drops data: column shop_item.name and its values.\nContinue? [y/N] "
            );
        }
    }

    #[test]
    fn a_declined_rename_is_a_drop_and_an_add_and_no_answer_is_refused() {
        let (models, old, new) = renamed_and_added();
        let mut questioner = interactive(&models, "n\n\n");
        let error = decide(&old, &new, Decisions::default(), &mut questioner).unwrap_err();
        assert!(
            matches!(
                error,
                QuestionError::Unanswered(AutodetectError::NeedsDefault(_))
            ),
            "{error:?}"
        );
        // Declined, `title` is a new NOT NULL column too: both need a value.
        let mut questioner = interactive(&models, "n\n\"t\"\n0\n");
        let decisions = decide(&old, &new, Decisions::default(), &mut questioner).unwrap();
        assert_eq!(decisions.one_off_defaults.len(), 2);
        let ops = autodetect::diff(&old, &new, &decisions).unwrap();
        assert!(ops.iter().all(|op| op.kind() != "rename_column"), "{ops:?}");
    }

    /// `old`: a nullable code; `new`: the code NOT NULL, without a default.
    fn code_becomes_not_null() -> (Models, SchemaState, SchemaState) {
        let old = shop("[Item]\nfields.code = \"varchar(10)?\"\n");
        let new = shop("[Item]\nfields.code = \"varchar(10)\"\n");
        (new.clone(), old.state, new.state)
    }

    #[test]
    fn a_column_becoming_not_null_is_refused_without_an_answer() {
        let (_, old, new) = code_becomes_not_null();
        let error = decide(&old, &new, Decisions::default(), &mut NonInteractive).unwrap_err();
        let QuestionError::Unanswered(AutodetectError::NeedsNotNullAnswer(missing)) = error else {
            panic!("expected a NOT NULL question, got {error:?}");
        };
        assert_eq!(missing, [("shop_item".to_string(), "code".to_string())]);
    }

    #[test]
    fn a_one_off_value_for_null_rows_is_a_backfill_before_the_alter() {
        let (models, old, new) = code_becomes_not_null();
        let mut questioner = interactive(&models, "3\n1\n7\n\"x\"\n");
        let decisions = decide(&old, &new, Decisions::default(), &mut questioner).unwrap();
        let asked = String::from_utf8(questioner.output).unwrap();
        assert!(
            asked.contains("shop.Item.code becomes NOT NULL without a default"),
            "{asked}"
        );
        assert!(asked.contains("Please answer 1 or 2."), "{asked}");
        assert!(
            asked.contains("That is not a varchar(10) literal; try again."),
            "{asked}"
        );
        let ops = autodetect::diff(&old, &new, &decisions).unwrap();
        let kinds: Vec<&str> = ops.iter().map(Operation::kind).collect();
        assert_eq!(kinds, ["backfill", "alter_column"]);
        let Operation::Backfill(b) = &ops[0] else {
            unreachable!()
        };
        assert_eq!(b.predicate.as_deref(), Some("code IS NULL"));
        assert_eq!(b.set.as_ref().unwrap()["code"], "'x'");
    }

    #[test]
    fn no_null_rows_is_only_the_alter_and_no_answer_stops() {
        let (models, old, new) = code_becomes_not_null();
        let mut questioner = interactive(&models, "2\n");
        let decisions = decide(&old, &new, Decisions::default(), &mut questioner).unwrap();
        assert!(decisions
            .no_nulls
            .contains(&("shop_item".to_string(), "code".to_string())));
        let ops = autodetect::diff(&old, &new, &decisions).unwrap();
        let kinds: Vec<&str> = ops.iter().map(Operation::kind).collect();
        assert_eq!(kinds, ["alter_column"]);
        let mut questioner = interactive(&models, "\n");
        let error = decide(&old, &new, Decisions::default(), &mut questioner).unwrap_err();
        assert!(
            matches!(
                error,
                QuestionError::Unanswered(AutodetectError::NeedsNotNullAnswer(_))
            ),
            "{error:?}"
        );
    }
}
