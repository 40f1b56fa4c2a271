//! Where each family option stood on the command line, settled as clap reads it.
//!
//! ss lets the last family option decide (the last of `-4` and `-6` picks the IP version, and
//! the last of any picks the family of a filter's addresses), but clap keeps each option's
//! values apart and forgets their order. So each family option's value parser, which clap runs
//! on each value as it reads it, stamps the value with its arrival: a count that only grows.
//! The order is then part of the values themselves, and nothing asks the parser afterwards
//! which option came last.
//!
//! (`-a`, `-l` and `-B` need no stamps: they override each other in clap, so at most one of
//! them is left set, the last one given.)

use std::sync::atomic::{AtomicU64, Ordering};

use clap::builder::{BoolValueParser, EnumValueParser, TypedValueParser};

use super::FamilyArg;

/// The arrivals so far, over every parse in the process: only their order matters, and values
/// read one after another get growing stamps.
static ARRIVALS: AtomicU64 = AtomicU64::new(0);

/// A family option as read: the family it names, and when it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FamilyOption {
    pub family: FamilyArg,
    arrival: u64,
}

impl FamilyOption {
    fn arrived(family: FamilyArg) -> FamilyOption {
        FamilyOption {
            family,
            arrival: ARRIVALS.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A flag that names a family (`-4`, `-x`, ...): given or not, and when.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilyFlag(Option<FamilyOption>);

impl FamilyFlag {
    pub fn is_given(&self) -> bool {
        self.0.is_some()
    }
}

/// The value parser of a flag naming `family`: a flag's value is clap's `true` when given
/// (and `false`, its default, when not).
pub(super) fn flag(family: FamilyArg) -> impl TypedValueParser<Value = FamilyFlag> {
    BoolValueParser::new()
        .map(move |given| FamilyFlag(given.then(|| FamilyOption::arrived(family))))
}

/// The value parser of `-f FAMILY`, offering the families as [`FamilyArg`] does.
pub(super) fn family() -> impl TypedValueParser<Value = FamilyOption> {
    EnumValueParser::<FamilyArg>::new().map(FamilyOption::arrived)
}

/// Every family option given, in command-line order.
pub(super) fn in_order(flags: &[FamilyFlag], options: &[FamilyOption]) -> Vec<FamilyArg> {
    let mut all: Vec<FamilyOption> = flags
        .iter()
        .filter_map(|f| f.0)
        .chain(options.iter().copied())
        .collect();
    all.sort_by_key(|option| option.arrival);
    all.into_iter().map(|option| option.family).collect()
}
