//! The filter typed after `/`: the line being edited, the filter applied, and the title that
//! names it. The view reads no filter itself: Enter hands the words to the watch loop, which
//! reads them by the command line's own rules ([`crate::config::Config::refilter`]) and says
//! how that went.
//!
//! The line opens with the filter in force (at first the command line's), selected as a text
//! field selects it: typing replaces it, an arrow, Home or End edits it, Ctrl-U clears it.
//! After a refused filter it opens with that one, the word its error names selected (the
//! whole text when the error names none): typing replaces the word.

use std::borrow::Cow;

use super::keys::Key;

/// What a key did to the line being edited.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// Still editing (or the edit was cancelled).
    Editing,
    /// Enter: the words typed, for the loop to apply.
    Apply(Vec<String>),
    /// Ctrl-C read as a key.
    Quit,
}

/// The `/` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Editor {
    text: Vec<char>,
    /// Where the next character goes, in characters.
    cursor: usize,
    /// The characters selected (from, to): the next character replaces them.
    selection: Option<(usize, usize)>,
}

impl Editor {
    /// The line with `text`, all of it selected, or the word at the character `at`.
    fn new(text: &str, at: Option<usize>) -> Editor {
        let text: Vec<char> = text.chars().collect();
        let (from, to) = match at {
            Some(at) if at < text.len() => {
                let from = text[..at]
                    .iter()
                    .rposition(|c| *c == ' ')
                    .map_or(0, |i| i + 1);
                let to = text[at..]
                    .iter()
                    .position(|c| *c == ' ')
                    .map_or(text.len(), |i| at + i);
                (from, to)
            }
            _ => (0, text.len()),
        };
        Editor {
            cursor: to,
            selection: (from < to).then_some((from, to)),
            text,
        }
    }

    pub fn text(&self) -> String {
        self.text.iter().collect()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The characters selected, from and to.
    pub fn selection(&self) -> Option<(usize, usize)> {
        self.selection
    }

    fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.selection = None;
    }

    /// Takes out the selected characters; returns whether there were.
    fn cut(&mut self) -> bool {
        let Some((from, to)) = self.selection.take() else {
            return false;
        };
        self.text.drain(from..to);
        self.cursor = from;
        true
    }

    /// A key that edits; false for one that does not.
    fn edit(&mut self, key: Key) -> bool {
        match key {
            Key::Char(c) => {
                self.cut();
                self.text.insert(self.cursor, c);
                self.cursor += 1;
            }
            Key::Backspace => {
                if !self.cut() && self.cursor > 0 {
                    self.cursor -= 1;
                    self.text.remove(self.cursor);
                }
            }
            Key::Kill => self.clear(),
            Key::Left => self.cursor = self.cursor.saturating_sub(1),
            Key::Right => self.cursor = (self.cursor + 1).min(self.text.len()),
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = self.text.len(),
            _ => return false,
        }
        self.selection = None;
        true
    }
}

pub struct Steering {
    /// The `/` line being edited.
    editing: Option<Editor>,
    /// The filter in force, as typed (words separated by one space): the command line's
    /// until `/` changes it.
    applied: String,
    /// Whether `/` changed the command line's filter.
    changed: bool,
    /// The title before the filter, and whether the filter ends it (else a changed filter is
    /// named after it).
    command: Title,
    /// Handed to the loop, not yet answered.
    pending: Option<String>,
    /// The filter refused last and the column (from 1) its error points at, for the next `/`.
    refused: Option<(String, Option<usize>)>,
    /// A filter was applied and the look that applies it has not ended: the sockets that look
    /// no longer lists left the filter rather than closed, those it adds came into it.
    refiltered: bool,
}

/// The command line, split where its filter begins.
struct Title {
    whole: String,
    /// The part before the filter, when the filter ends the command line.
    before: Option<String>,
}

impl Steering {
    /// The steering of a view whose title is the command line `title`, whose filter (the
    /// filter in force) was given as the words `filter` (`None` when it came from a file).
    pub fn new(title: &str, filter: Option<&[String]>) -> Steering {
        let (before, filter) = filter
            .map(|words| command_filter(title, words))
            .unwrap_or_default();
        Steering {
            editing: None,
            applied: filter,
            changed: false,
            command: Title {
                whole: title.to_owned(),
                before,
            },
            pending: None,
            refused: None,
            refiltered: false,
        }
    }

    /// The line being edited, if it is.
    pub fn editor(&self) -> Option<&Editor> {
        self.editing.as_ref()
    }

    /// The filter in force, as typed.
    #[cfg(test)]
    pub fn applied(&self) -> &str {
        &self.applied
    }

    /// The title: the command line, with the filter in force in place of its own once `/`
    /// changed it.
    pub fn title(&self) -> Cow<'_, str> {
        if !self.changed {
            return Cow::Borrowed(&self.command.whole);
        }
        let filter = if self.applied.is_empty() {
            "(every socket)"
        } else {
            &self.applied
        };
        Cow::Owned(match &self.command.before {
            Some(before) if self.applied.is_empty() => before.clone(),
            Some(before) => format!("{before} {filter}"),
            None => format!("{}  [filter: {filter}]", self.command.whole),
        })
    }

    pub fn refiltered(&self) -> bool {
        self.refiltered
    }

    /// `/`: edits the filter in force, or the one refused last.
    pub fn open(&mut self) {
        self.editing = Some(match self.refused.take() {
            Some((text, column)) => Editor::new(&text, column.map(|c| c - 1)),
            None => Editor::new(&self.applied, None),
        });
    }

    /// A key while editing.
    pub fn key(&mut self, key: Key) -> Edit {
        let Some(editor) = &mut self.editing else {
            return Edit::Editing;
        };
        if editor.edit(key) {
            return Edit::Editing;
        }
        match key {
            Key::Escape => self.editing = None,
            Key::Enter => {
                let text = self.editing.take().map(|e| e.text()).unwrap_or_default();
                let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
                self.pending = Some(words.join(" "));
                return Edit::Apply(words);
            }
            Key::Interrupt => return Edit::Quit,
            _ => {}
        }
        Edit::Editing
    }

    /// The loop applied the filter handed to it, from the next look; returns it as typed.
    pub fn accepted(&mut self) -> String {
        let text = self.pending.take().unwrap_or_default();
        self.changed |= text != self.applied;
        self.applied = text.clone();
        self.refiltered = true;
        text
    }

    /// The loop could not read the filter handed to it, for `reason`: the one before stays.
    /// Returns what to say: the reason, with the column it points at in what was typed.
    pub fn refused(&mut self, reason: &str) -> String {
        let text = self.pending.take().unwrap_or_default();
        let (reason, column) = position(reason, &text);
        let said = match column {
            Some(column) => format!("{reason} at column {column}"),
            None => reason.to_owned(),
        };
        self.refused = Some((text, column));
        said
    }

    /// A look ended.
    pub fn looked(&mut self) {
        self.refiltered = false;
    }
}

/// The error `reason` without the place the parser gave (`at LINE:COLUMN`), and the column
/// (from 1) in `text` (the words typed, one space apart) that it points at. A wrong state name
/// has no place in the parser's message (ss's words): it is the name after `state` or
/// `exclude`.
fn position<'r>(reason: &'r str, text: &str) -> (&'r str, Option<usize>) {
    let words: Vec<&str> = text.split(' ').collect();
    let columns = words.iter().scan(1, |next, word| {
        let at = *next;
        *next += word.chars().count() + 1;
        Some(at)
    });
    let columns: Vec<usize> = columns.collect();
    if let Some((before, place)) = reason.rsplit_once(" at ") {
        if let Some((_, column)) = place.split_once(':') {
            if let Ok(column) = column.parse::<usize>() {
                let length = text.chars().count();
                // `:PORT` alone was read as its long form, where the place lies.
                let column = if words.len() == 1 { 1 } else { column };
                return (before, Some(column.clamp(1, length.max(1))));
            }
        }
    }
    if let Some(name) = reason.strip_prefix("wrong state name: ") {
        let found = (1..words.len())
            .find(|&i| words[i] == name && matches!(words[i - 1], "state" | "exclude"));
        return (reason, found.map(|i| columns[i]));
    }
    (reason, None)
}

/// The part of the command line `title` before its filter `words`, when the filter ends it
/// (the title writes words one space apart, those with white space in quotes), and the filter.
fn command_filter(title: &str, words: &[String]) -> (Option<String>, String) {
    let filter = words.join(" ");
    let written: Vec<Cow<str>> = words.iter().map(|w| quote(w)).collect();
    let written = written.join(" ");
    let before = title
        .strip_suffix(&written)
        .map(|b| b.trim_end().to_owned());
    (before, filter)
}

/// A word as the title writes it.
fn quote(word: &str) -> Cow<'_, str> {
    if word.is_empty() || word.contains(char::is_whitespace) {
        Cow::Owned(format!("'{word}'"))
    } else {
        Cow::Borrowed(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of a title: split at spaces, except inside single quotes.
    fn split(title: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in title.chars() {
            match c {
                '\'' => quoted = !quoted,
                ' ' if !quoted => words.push(std::mem::take(&mut word)),
                c => word.push(c),
            }
        }
        words.push(word);
        words
    }

    /// The steering of the command line `title`, its filter the words after its options.
    fn steering_of(title: &str) -> Steering {
        let words = split(title);
        let mut filter = Vec::new();
        let mut i = 2;
        while i < words.len() {
            match words[i].as_str() {
                "--interval" => i += 2,
                w if w.starts_with('-') => i += 1,
                _ => {
                    filter.push(words[i].clone());
                    i += 1;
                }
            }
        }
        Steering::new(title, Some(&filter))
    }

    fn typed(steering: &mut Steering, text: &str) -> Edit {
        let mut edit = Edit::Editing;
        for c in text.chars() {
            edit = steering.key(Key::Char(c));
        }
        assert_eq!(edit, Edit::Editing);
        steering.key(Key::Enter)
    }

    fn text(steering: &Steering) -> Option<String> {
        steering.editor().map(Editor::text)
    }

    #[test]
    fn enter_hands_the_words_over_and_the_answer_decides() {
        let mut steering = steering_of("sockscope watch");
        steering.open();
        assert_eq!(text(&steering).as_deref(), Some(""));
        let words = typed(&mut steering, " sport = :80 ");
        assert_eq!(
            words,
            Edit::Apply(vec!["sport".into(), "=".into(), ":80".into()])
        );
        assert_eq!(steering.editor(), None);
        assert_eq!(steering.accepted(), "sport = :80");
        assert!(steering.refiltered());
        steering.looked();
        assert!(!steering.refiltered());
        // `/` again starts from the filter applied; a refused one leaves it.
        steering.open();
        assert_eq!(text(&steering).as_deref(), Some("sport = :80"));
        steering.key(Key::Kill);
        typed(&mut steering, "bad");
        steering.refused("filter: unexpected \"bad\" at 1:1");
        assert_eq!(steering.applied(), "sport = :80");
        assert!(!steering.refiltered());
        // Esc cancels; Ctrl-C read as a key quits.
        steering.open();
        assert_eq!(steering.key(Key::Escape), Edit::Editing);
        assert_eq!(steering.editor(), None);
        steering.open();
        assert_eq!(steering.key(Key::Interrupt), Edit::Quit);
    }

    /// The line opens with the command line's filter, selected: typing replaces it, an arrow
    /// edits it, Ctrl-U clears it.
    #[test]
    fn the_line_opens_with_the_filter_in_force_selected() {
        let mut steering = steering_of("sockscope watch --interval 0.1 -tan :8000");
        assert_eq!(steering.applied(), ":8000");
        assert_eq!(
            steering.title(),
            "sockscope watch --interval 0.1 -tan :8000"
        );
        steering.open();
        let editor = steering.editor().unwrap();
        assert_eq!(editor.text(), ":8000");
        assert_eq!(editor.selection(), Some((0, 5)));
        // Typing replaces the selection.
        assert_eq!(
            typed(&mut steering, "state listening"),
            Edit::Apply(vec!["state".into(), "listening".into()])
        );
        steering.accepted();
        assert_eq!(
            steering.title(),
            "sockscope watch --interval 0.1 -tan state listening"
        );
        // An arrow ends the selection: typing then edits in place.
        steering.open();
        for key in [
            Key::Home,
            Key::Right,
            Key::Char('x'),
            Key::End,
            Key::Char('!'),
        ] {
            steering.key(key);
        }
        assert_eq!(text(&steering).as_deref(), Some("sxtate listening!"));
        steering.key(Key::Kill);
        assert_eq!(text(&steering).as_deref(), Some(""));
        steering.key(Key::Escape);
        // Emptied: every socket, and the title says the command line's options alone.
        steering.open();
        steering.key(Key::Backspace);
        assert_eq!(steering.key(Key::Enter), Edit::Apply(Vec::new()));
        steering.accepted();
        assert_eq!(steering.title(), "sockscope watch --interval 0.1 -tan");
    }

    /// A refused filter's error says the column it points at, and the next `/` opens on it.
    #[test]
    fn an_error_points_at_its_column() {
        let mut steering = steering_of("sockscope watch -t");
        steering.open();
        typed(&mut steering, "state  listeningdport");
        let said = steering.refused("wrong state name: listeningdport");
        assert_eq!(said, "wrong state name: listeningdport at column 7");
        steering.open();
        let editor = steering.editor().unwrap();
        assert_eq!(editor.text(), "state listeningdport");
        assert_eq!(editor.selection(), Some((6, 20)));
        // Typing replaces the word named.
        assert_eq!(
            typed(&mut steering, "listening"),
            Edit::Apply(vec!["state".into(), "listening".into()])
        );
        steering.accepted();
        // The parser's own place, in the words as typed.
        steering.open();
        typed(&mut steering, "sport = :80 bogus");
        let said = steering.refused("filter: unexpected \"bogus\" at 1:13");
        assert_eq!(said, "filter: unexpected \"bogus\" at column 13");
        // `:PORT` alone is read as its long form: the place is the word.
        steering.open();
        steering.key(Key::Kill);
        typed(&mut steering, ":nosuch");
        let said = steering.refused("filter: no such service \"nosuch\" at 1:10");
        assert_eq!(said, "filter: no such service \"nosuch\" at column 1");
    }

    #[test]
    fn a_filter_not_at_the_end_of_the_command_line() {
        let filter = "sport = :22".to_owned();
        let words = [filter.clone()];
        assert_eq!(
            command_filter("sockscope watch -t 'sport = :22' --interval 2", &words),
            (None, filter.clone())
        );
        assert_eq!(
            command_filter("sockscope watch -t 'sport = :22'", &words),
            (Some("sockscope watch -t".to_owned()), filter)
        );
        assert_eq!(
            command_filter("sockscope watch -t", &[]),
            (Some("sockscope watch -t".to_owned()), String::new())
        );
        let mut steering = steering_of("sockscope watch -t 'sport = :22' --interval 2");
        steering.open();
        typed(&mut steering, "sport = :80");
        steering.accepted();
        assert_eq!(
            steering.title(),
            "sockscope watch -t 'sport = :22' --interval 2  [filter: sport = :80]"
        );
    }
}
