//! The filter typed after `/`: the line being edited, and the filter applied last. The view
//! reads no filter itself: Enter hands the words to the watch loop, which reads them by the
//! command line's own rules ([`crate::config::Config::refilter`]) and says how that went.

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

#[derive(Default)]
pub struct Steering {
    /// The `/` line being edited.
    editing: Option<String>,
    /// The filter applied last, as typed, shown on the status line.
    applied: Option<String>,
    /// Handed to the loop, not yet answered.
    pending: Option<String>,
    /// A filter was applied and the look that applies it has not ended: the sockets that look
    /// no longer lists left the filter rather than closed.
    refiltered: bool,
}

impl Steering {
    /// The line being edited, if it is.
    pub fn editing(&self) -> Option<&str> {
        self.editing.as_deref()
    }

    /// The filter applied last.
    pub fn applied(&self) -> Option<&str> {
        self.applied.as_deref()
    }

    pub fn refiltered(&self) -> bool {
        self.refiltered
    }

    /// `/`: edits the filter applied last.
    pub fn open(&mut self) {
        self.editing = Some(self.applied.clone().unwrap_or_default());
    }

    /// A key while editing.
    pub fn key(&mut self, key: Key) -> Edit {
        let Some(text) = &mut self.editing else {
            return Edit::Editing;
        };
        match key {
            Key::Char(c) => text.push(c),
            Key::Backspace => {
                text.pop();
            }
            Key::Kill => text.clear(),
            Key::Escape => self.editing = None,
            Key::Enter => {
                let text = self.editing.take().unwrap_or_default();
                let words = text.split_whitespace().map(str::to_owned).collect();
                self.pending = Some(text.trim().to_owned());
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
        self.applied = Some(text.clone());
        self.refiltered = true;
        text
    }

    /// The loop could not read the filter handed to it: the one before stays.
    pub fn refused(&mut self) {
        self.pending = None;
    }

    /// A look ended.
    pub fn looked(&mut self) {
        self.refiltered = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(steering: &mut Steering, text: &str) -> Edit {
        let mut edit = Edit::Editing;
        for c in text.chars() {
            edit = steering.key(Key::Char(c));
        }
        assert_eq!(edit, Edit::Editing);
        steering.key(Key::Enter)
    }

    #[test]
    fn enter_hands_the_words_over_and_the_answer_decides() {
        let mut steering = Steering::default();
        steering.open();
        assert_eq!(steering.editing(), Some(""));
        let words = typed(&mut steering, " sport = :80 ");
        assert_eq!(
            words,
            Edit::Apply(vec!["sport".into(), "=".into(), ":80".into()])
        );
        assert_eq!(steering.editing(), None);
        assert_eq!(steering.accepted(), "sport = :80");
        assert!(steering.refiltered());
        steering.looked();
        assert!(!steering.refiltered());
        // `/` again starts from the filter applied; a refused one leaves it.
        steering.open();
        assert_eq!(steering.editing(), Some("sport = :80"));
        steering.key(Key::Kill);
        typed(&mut steering, "bad");
        steering.refused();
        assert_eq!(steering.applied(), Some("sport = :80"));
        assert!(!steering.refiltered());
        // Esc cancels; Ctrl-C read as a key quits.
        steering.open();
        assert_eq!(steering.key(Key::Escape), Edit::Editing);
        assert_eq!(steering.editing(), None);
        steering.open();
        assert_eq!(steering.key(Key::Interrupt), Edit::Quit);
    }
}
