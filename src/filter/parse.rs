//! Reading a filter: words into tokens, tokens into a [`Filter`].
//!
//! As in ss, tokens are separated by spaces and tabs, and by line ends in a `-F` file (in a
//! command-line word a line end is part of the token): `( sport = :22 )` is five tokens and
//! `(sport` is one, read as an address. A backslash makes the character after it
//! part of a token (`\ ` is a space in one, `\\` a backslash); at the end of a line it adds
//! nothing. In a `-F` file a line that starts with `#` is a comment, and a NUL ends a line, as
//! it ends the C string ss reads it into (a line that starts with one is an error). The grammar has no
//! precedence between `and` and `or`; a chain is folded from the left, `not` binds to the term
//! after it, and two terms side by side are joined by `and`.

use std::borrow::Cow;
use std::fmt;
use std::ops::Not;

use super::host::{self, HostError, PortSpec};
use super::{Cond, End, Expr, Filter};
use crate::socket::{Family, StateSet, TcpState};

/// Where the filter's words come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Words from the command line; positions are columns of the words joined by spaces.
    Args(Vec<String>),
    /// The lines of a `-F` file (or standard input) alone; positions are line and column.
    Lines(Vec<String>),
    /// A `-F` file (or standard input), whose positions are line and column, after the words
    /// of the command line, which may only name states (`-F FILE state established`).
    File {
        args: Vec<String>,
        lines: Vec<String>,
    },
}

/// Whether the command line's words only name states (`state NAME`, `exclude NAME`): all a
/// command line may add to a filter read from a file.
pub fn only_states(words: &[String]) -> bool {
    let mut lexed = Vec::new();
    lex_args(words, 1, &mut lexed);
    lexed
        .iter()
        .step_by(2)
        .all(|word| matches!(&word.text, Cow::Borrowed(text) if is_state_keyword(text)))
}

/// What the rest of the command line tells the parser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The family of the last `-4`, `-6`, `-f` or `-x`: how an address without a family is
    /// read (with `-x`, `src *.sock` is a unix name).
    pub default_family: Option<Family>,
    /// The protocol service names are looked up in: UDP when only UDP is listed, TCP when TCP
    /// is and UDP is not, any otherwise.
    pub service_protocol: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub kind: FilterErrorKind,
    /// Line and column (both from 1) of the offending token.
    pub at: Option<(usize, usize)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// The words do not form a filter (ss exits 255).
    Syntax(String),
    /// An unknown state name (ss exits 255).
    WrongState(String),
    /// A well-formed filter with a value that cannot be used: an address, port, device, mark
    /// or cgroup (ss exits 1).
    Value(String),
}

impl FilterError {
    /// The exit status ss uses for this kind of mistake.
    pub fn exit_status(&self) -> u8 {
        match self.kind {
            FilterErrorKind::Syntax(_) | FilterErrorKind::WrongState(_) => 255,
            FilterErrorKind::Value(_) => 1,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FilterErrorKind::WrongState(name) => return write!(f, "wrong state name: {name}"),
            FilterErrorKind::Syntax(message) | FilterErrorKind::Value(message) => {
                write!(f, "filter: {message}")?
            }
        }
        if let Some((line, column)) = self.at {
            write!(f, " at {line}:{column}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FilterError {}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    /// From 1; 0 for the command line's words before a `-F` file, which have no place.
    line: usize,
    column: usize,
    /// Whether a backslash was taken out of it: ss reads `state` and a state's name only as
    /// they are typed.
    escaped: bool,
}

/// A token as the lexer read it, escapes resolved.
struct Word<'a> {
    /// Borrowed from the source unless a backslash had to be taken out.
    text: Cow<'a, str>,
    line: usize,
    column: usize,
}

/// Parses a filter.
pub fn parse(source: &Source, options: &ParseOptions) -> Result<Filter, FilterError> {
    let mut words = Vec::new();
    let (args, lines, args_line) = match source {
        Source::Args(args) => (args, &[][..], 1),
        Source::Lines(lines) => (&Vec::new(), &lines[..], 0),
        Source::File { args, lines } => (args, &lines[..], 0),
    };
    lex_args(args, args_line, &mut words);
    let from_args = words.len();
    for (index, line) in lines.iter().enumerate() {
        if line.starts_with('\0') {
            return Err(FilterError {
                kind: FilterErrorKind::Syntax("the line starts with a NUL byte".into()),
                at: Some((index + 1, 1)),
            });
        }
        let line = line.split('\0').next().unwrap_or_default();
        if !line.starts_with('#') {
            lex(line, index + 1, 0, &mut words);
        }
    }
    let tokens = words
        .iter()
        .map(|word| Token {
            text: &word.text,
            line: word.line,
            column: word.column,
            escaped: matches!(word.text, Cow::Owned(_)),
        })
        .collect();
    let mut parser = Parser {
        tokens,
        next: 0,
        options: *options,
        context: Value::Host,
        family: None,
        shorthand: false,
    };
    let states = parser.states(None)?;
    if !matches!(source, Source::Args(_)) && parser.next < from_args {
        return Err(FilterError {
            kind: FilterErrorKind::Syntax(
                "give the filter either with -F or on the command line, not both".into(),
            ),
            at: None,
        });
    }
    let (states, expr) = if parser.peek().is_some() {
        let expr = parser.list()?;
        // States may follow an expression with a `:PORT` (`:22 state established`), adding
        // to those before it as another `state` would there.
        let states = parser.states(states)?;
        if let Some(token) = parser.peek() {
            return Err(parser.syntax(token, format!("unexpected \"{}\"", token.text)));
        }
        (states, Some(expr))
    } else {
        (states, None)
    };
    Ok(Filter {
        states,
        expr,
        family: parser.family,
    })
}

/// The words of the command line, each lexed on its own, placed as if joined by spaces.
fn lex_args<'a>(args: &'a [String], line: usize, words: &mut Vec<Word<'a>>) {
    let mut column = 0;
    for arg in args {
        lex(arg, line, column, words);
        column += arg.len() + 1;
    }
}

/// The tokens of one line (or command-line word) whose first byte is at `column_base`.
fn lex<'a>(text: &'a str, line: usize, column_base: usize, words: &mut Vec<Word<'a>>) {
    // Only spaces and tabs, as in ss: a line end inside a command-line word is part of it.
    let separator = |c: char| matches!(c, ' ' | '\t');
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !separator(c)) {
        let after = &rest[start..];
        let len = after.find(separator).unwrap_or(after.len());
        let raw = &after[..len];
        rest = &after[len..];
        let column = column_base + (text.len() - after.len()) + 1;
        if !raw.contains('\\') {
            words.push(Word {
                text: Cow::Borrowed(raw),
                line,
                column,
            });
            continue;
        }
        // An escaped separator joins the words around it: read on to the first separator
        // that is not escaped.
        let mut unescaped = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((at, c)) = chars.next() {
            if separator(c) {
                end = at;
                break;
            }
            if c == '\\' {
                unescaped.extend(chars.next().map(|(_, escaped)| escaped));
            } else {
                unescaped.push(c);
            }
        }
        rest = &after[end..];
        words.push(Word {
            text: Cow::Owned(unescaped),
            line,
            column,
        });
    }
}

/// What the lexer reads a word as: ss checks each word that is not a keyword as a value of
/// the kind the last keyword takes (an address before any), so a word it cannot read as one
/// is a mistake in a value (status 1) even where no value may stand (status 255 otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Host,
    Port,
    Device,
    Mark,
    Cgroup,
}

impl Value {
    fn name(self) -> &'static str {
        match self {
            Value::Host => "an address",
            Value::Port => "a port",
            Value::Device => "a device",
            Value::Mark => "a mark",
            Value::Cgroup => "a cgroup path",
        }
    }
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    /// The default family changes as `FAMILY:` prefixes are read.
    options: ParseOptions,
    /// The kind of value the last keyword takes.
    context: Value,
    /// The family of the last `FAMILY:` prefix.
    family: Option<Family>,
    /// Whether a `:PORT` shorthand has been read.
    shorthand: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.next).copied()
    }

    fn advance(&mut self) -> Option<Token<'a>> {
        let token = self.peek()?;
        self.next += 1;
        Some(token)
    }

    fn error_at(token: Option<Token<'_>>, kind: FilterErrorKind) -> FilterError {
        FilterError {
            kind,
            at: token.filter(|t| t.line > 0).map(|t| (t.line, t.column)),
        }
    }

    fn syntax(&self, token: Token<'_>, message: String) -> FilterError {
        Parser::error_at(Some(token), FilterErrorKind::Syntax(message))
    }

    /// The error for a missing token after `after`.
    fn missing(&self, what: &str, after: &str) -> FilterError {
        let message = match self.peek() {
            Some(token) => format!("expected {what} after \"{after}\", got \"{}\"", token.text),
            None => format!("expected {what} after \"{after}\", got the end of the filter"),
        };
        Parser::error_at(self.peek(), FilterErrorKind::Syntax(message))
    }

    /// `state NAME` and `exclude NAME`, before or after the expression, added to `states`.
    /// `state` adds to the set (the first one starting from nothing), `exclude` removes (the
    /// first one starting from every state).
    fn states(&mut self, mut states: Option<StateSet>) -> Result<Option<StateSet>, FilterError> {
        while let Some(keyword) = self.peek() {
            let include = match keyword.text {
                _ if keyword.escaped => break,
                "state" => true,
                text if is_state_keyword(text) => false,
                _ => break,
            };
            self.advance();
            // A state named on the command line before a `-F` file is named there too.
            let Some(name) = self
                .peek()
                .filter(|name| keyword.line > 0 || name.line == 0)
            else {
                return Err(self.missing("a state name", keyword.text));
            };
            self.advance();
            let named = state_set(name.text).filter(|_| !name.escaped);
            let named = named.ok_or_else(|| {
                Parser::error_at(
                    Some(name),
                    FilterErrorKind::WrongState(name.text.to_owned()),
                )
            })?;
            states = Some(if include {
                states.unwrap_or(StateSet::EMPTY).union(named)
            } else {
                // Excluding SYN-RECV takes out the request sockets that `big` asks for too
                // (ss 7.1 leaves them in: README, "Where sockscope differs from ss").
                let named = if named.contains(TcpState::SynRecv) {
                    named.with(TcpState::NewSynRecv)
                } else {
                    named
                };
                StateSet::from_bits(states.unwrap_or(StateSet::ALL).bits() & !named.bits())
            });
        }
        Ok(states)
    }

    /// A chain of terms joined by `and`, `or` or nothing, folded from the left; a term is a
    /// condition, `!` and a term, or a chain in parentheses.
    ///
    /// The grammar nests, but the parser keeps its own stack of the chains still open, one per
    /// `(`, so that no depth of parentheses or `!` can overflow the program's stack.
    fn list(&mut self) -> Result<Expr, FilterError> {
        let mut open: Vec<Chain<'a>> = Vec::new();
        let mut chain = Chain::default();
        loop {
            // A term: any number of `!`, then a condition or a `(`.
            let term = loop {
                let Some(token) = self.advance() else {
                    return Err(Parser::error_at(
                        None,
                        FilterErrorKind::Syntax(
                            "expected an expression, got the end of the filter".into(),
                        ),
                    ));
                };
                match token.text {
                    "!" | "not" => {
                        self.require_term(token.text)?;
                        chain.negations += 1;
                    }
                    "(" => {
                        if self.peek().is_some_and(|t| t.text == ")") {
                            return Err(self.missing("an expression", "("));
                        }
                        let outer = std::mem::replace(
                            &mut chain,
                            Chain {
                                opened: Some(token),
                                ..Chain::default()
                            },
                        );
                        open.push(outer);
                    }
                    ")" => return Err(self.syntax(token, "unexpected \")\"".into())),
                    _ => break self.condition(token)?,
                }
            };
            chain.push(term);
            // What follows the term: an operator, the end of the chain, or another term.
            loop {
                let Some(token) = self.peek() else {
                    if let Some(opened) = chain.opened {
                        return Err(self.syntax(opened, "this \"(\" is never closed".into()));
                    }
                    return Ok(chain.finish());
                };
                match token.text {
                    ")" => {
                        let Some(outer) = open.pop() else {
                            return Ok(chain.finish());
                        };
                        self.advance();
                        let inner = std::mem::replace(&mut chain, outer).finish();
                        chain.push(inner);
                    }
                    // In a filter of sockscope's own, with a `:PORT`, states may follow the
                    // whole expression (`:22 state established`); a filter ss reads is read
                    // as ss reads it, where they may only come first.
                    text if self.shorthand
                        && open.is_empty()
                        && !token.escaped
                        && is_state_keyword(text) =>
                    {
                        return Ok(chain.finish());
                    }
                    "or" | "|" | "||" | "and" | "&" | "&&" => {
                        self.advance();
                        self.require_term(token.text)?;
                        chain.or = matches!(token.text, "or" | "|" | "||");
                        break;
                    }
                    _ => {
                        chain.or = false;
                        break;
                    }
                }
            }
        }
    }

    /// A term must follow `after`.
    fn require_term(&self, after: &str) -> Result<(), FilterError> {
        if self.peek().is_none_or(|t| t.text == ")") {
            return Err(self.missing("an expression", after));
        }
        Ok(())
    }

    /// A condition, which starts with `token`.
    fn condition(&mut self, token: Token<'a>) -> Result<Expr, FilterError> {
        match token.text {
            "src" | "dst" => {
                let end = if token.text == "src" {
                    End::Local
                } else {
                    End::Peer
                };
                self.context = Value::Host;
                self.skip_equals();
                let address = self.operand("an address", token.text)?;
                self.host(end, address)
            }
            "sport" | "dport" => {
                let end = if token.text == "sport" {
                    End::Local
                } else {
                    End::Peer
                };
                self.context = Value::Port;
                let op = self.comparison();
                let after = format!("{} {}", token.text, op.map_or("", |o| o.text));
                let port = self.operand("a port", after.trim_end())?;
                self.port(end, op.map(|o| o.text), port)
            }
            "dev" => {
                self.context = Value::Device;
                let negate = self.equality();
                let name = self.operand("a device", "dev")?;
                let index = host::device(name.text).map_err(|e| self.value(name, e))?;
                Ok(negated(Expr::Cond(Cond::Device(index)), negate))
            }
            "fwmark" => {
                self.context = Value::Mark;
                let negate = self.equality();
                let text = self.operand("a mark", "fwmark")?;
                let (mark, mask) = host::mark(text.text).map_err(|e| self.value(text, e))?;
                Ok(negated(Expr::Cond(Cond::Mark { mark, mask }), negate))
            }
            "cgroup" => {
                self.context = Value::Cgroup;
                let negate = self.equality();
                let path = self.operand("a cgroup path", "cgroup")?;
                let id = host::cgroup(path.text).map_err(|e| self.value(path, e))?;
                Ok(negated(Expr::Cond(Cond::Cgroup(id)), negate))
            }
            "autobound" => Ok(Expr::Cond(Cond::Autobound)),
            // `:PORT` alone is short for both directions of the port: `( sport = :PORT or
            // dport = :PORT )`, wherever a condition may stand (ss refuses it).
            text if text.len() > 1 && text.starts_with(':') => {
                self.context = Value::Port;
                self.shorthand = true;
                let local = self.port(End::Local, None, token)?;
                Ok(local.or(self.port(End::Peer, None, token)?))
            }
            other => {
                if !is_keyword(other) {
                    if let Err(HostError(why)) = self.lexed_value(other) {
                        let what = self.context.name();
                        return Err(Parser::error_at(
                            Some(token),
                            FilterErrorKind::Value(format!(
                                "\"{other}\" is not a keyword, nor {what} ({why})"
                            )),
                        ));
                    }
                }
                Err(self.syntax(
                    token,
                    format!(
                        "unexpected \"{other}\": expected src, dst, sport, dport, dev, fwmark, \
                         cgroup, autobound, \"!\" or \"(\""
                    ),
                ))
            }
        }
    }

    /// Reads `text` as the lexer does: as a value of the kind the last keyword takes.
    fn lexed_value(&self, text: &str) -> Result<(), HostError> {
        let (family, protocol) = (self.options.default_family, self.options.service_protocol);
        match self.context {
            Value::Host => host::hosts(text, family, protocol).map(drop),
            Value::Port => host::port_spec(text, family, protocol).map(drop),
            Value::Device => host::device(text).map(drop),
            Value::Mark => host::mark(text).map(drop),
            Value::Cgroup => host::cgroup(text).map(drop),
        }
    }

    /// After an operand that names its family (`inet6:*`), that family is the default of the
    /// operands after it and the family listed, as in ss.
    fn note_family(&mut self, text: &str) {
        if let Some(family) = host::explicit_family(text) {
            self.options.default_family = Some(family);
            self.family = Some(family);
        }
    }

    /// The value after a keyword; operators and parentheses are not values.
    fn operand(&mut self, what: &str, after: &str) -> Result<Token<'a>, FilterError> {
        match self.peek() {
            Some(token) if !is_keyword(token.text) => {
                self.advance();
                Ok(token)
            }
            _ => Err(self.missing(what, after)),
        }
    }

    /// An optional `=`, `==` or `eq` (the only comparison `src` and `dst` take).
    fn skip_equals(&mut self) {
        if self
            .peek()
            .is_some_and(|t| matches!(t.text, "=" | "==" | "eq"))
        {
            self.advance();
        }
    }

    /// An optional `=` (false) or `!=` (true) for `dev`, `fwmark` and `cgroup`.
    fn equality(&mut self) -> bool {
        match self.peek().map(|t| t.text) {
            Some("=" | "==" | "eq") => {
                self.advance();
                false
            }
            Some("!=" | "ne" | "neq") => {
                self.advance();
                true
            }
            _ => false,
        }
    }

    fn comparison(&mut self) -> Option<Token<'a>> {
        let token = self.peek()?;
        is_comparison(token.text).then(|| self.advance()).flatten()
    }

    fn value(&self, token: Token<'_>, error: HostError) -> FilterError {
        Parser::error_at(Some(token), FilterErrorKind::Value(error.0))
    }

    fn host(&mut self, end: End, token: Token<'_>) -> Result<Expr, FilterError> {
        let hosts = host::hosts(
            token.text,
            self.options.default_family,
            self.options.service_protocol,
        )
        .map_err(|e| self.value(token, e))?;
        self.note_family(token.text);
        Ok(any_of(
            hosts.into_iter().map(|h| Expr::Cond(Cond::Host(end, h))),
        ))
    }

    fn port(&mut self, end: End, op: Option<&str>, token: Token<'_>) -> Result<Expr, FilterError> {
        let spec = host::port_spec(
            token.text,
            self.options.default_family,
            self.options.service_protocol,
        )
        .map_err(|e| self.value(token, e))?;
        self.note_family(token.text);
        let cond = |c| Expr::Cond(c);
        let number = PortSpec::number;
        Ok(match op.unwrap_or("=") {
            "=" | "==" | "eq" => cond(Cond::Host(end, spec.into_host())),
            "!=" | "ne" | "neq" => cond(Cond::Host(end, spec.into_host())).not(),
            op => {
                // A unix socket has no port: read as a unix name (`-x`, `unix:`), any word is
                // ss's "no port", -1, and it compares a socket's inode (or its peer's) with
                // that: `>=` and `>` hold for every socket, `<=` and `<` for none.
                // Elsewhere a comparison needs a number.
                let port = match number(&spec) {
                    Some(port) => port,
                    None if matches!(spec, PortSpec::Unix(_)) => NO_PORT,
                    None => host::port_spec(token.text, None, self.options.service_protocol)
                        .ok()
                        .and_then(|spec| number(&spec))
                        .ok_or_else(|| {
                            self.value(
                                token,
                                HostError(format!("\"{}\" is not a port", token.text)),
                            )
                        })?,
                };
                match op {
                    ">=" | "ge" | "geq" => cond(Cond::PortAtLeast(end, port)),
                    "<=" | "le" | "leq" => cond(Cond::PortAtMost(end, port)),
                    ">" | "gt" => cond(Cond::PortAtMost(end, port)).not(),
                    _ => cond(Cond::PortAtLeast(end, port)).not(),
                }
            }
        })
    }
}

/// The port of a condition that names none, in ss's comparisons.
const NO_PORT: i64 = -1;

/// A chain of terms being read: what it has folded so far, how the next term joins it, and the
/// `!`s waiting for that term.
#[derive(Default)]
struct Chain<'a> {
    folded: Option<Expr>,
    /// The next term joins by `or` (else by `and`).
    or: bool,
    negations: usize,
    /// The `(` that opened the chain; none for the whole filter.
    opened: Option<Token<'a>>,
}

impl Chain<'_> {
    fn push(&mut self, term: Expr) {
        let term = (0..std::mem::take(&mut self.negations)).fold(term, |t, _| t.not());
        self.folded = Some(match self.folded.take() {
            None => term,
            Some(left) if self.or => left.or(term),
            Some(left) => left.and(term),
        });
    }

    fn finish(mut self) -> Expr {
        self.folded.take().expect("a chain has a term")
    }
}

fn negated(expr: Expr, negate: bool) -> Expr {
    if negate { expr.not() } else { expr }
}

/// The `or` of several expressions (a host name with several addresses).
fn any_of(mut exprs: impl Iterator<Item = Expr>) -> Expr {
    let first = exprs.next().expect("at least one address");
    exprs.fold(first, Expr::or)
}

/// The words ss's lexer reads as keywords, never as values: `src or` is a syntax error, not
/// the address "or".
fn is_keyword(text: &str) -> bool {
    is_comparison(text)
        || matches!(
            text,
            "(" | ")"
                | "!"
                | "not"
                | "&"
                | "&&"
                | "and"
                | "|"
                | "||"
                | "or"
                | "src"
                | "dst"
                | "sport"
                | "dport"
                | "dev"
                | "fwmark"
                | "cgroup"
                | "autobound"
        )
}

/// The comparison operators of ports and marks, in ss's spellings.
fn is_comparison(text: &str) -> bool {
    matches!(
        text,
        "=" | "=="
            | "eq"
            | "!="
            | "ne"
            | "neq"
            | ">"
            | "gt"
            | "<"
            | "lt"
            | ">="
            | "ge"
            | "geq"
            | "<="
            | "le"
            | "leq"
    )
}

/// `state`, `exclude` and its short form `excl`.
fn is_state_keyword(text: &str) -> bool {
    matches!(text, "state" | "exclude" | "excl")
}

/// SYN-RECV and TIME-WAIT: the kernel's minisockets, ss's "bucket".
const BUCKET: StateSet = StateSet::single(TcpState::SynRecv).with(TcpState::TimeWait);

/// Every state name a filter takes after `state` or `exclude`, with the states it stands for:
/// the TCP states, their aliases, and ss's groups. The one table of them: the parser reads it,
/// and a test below checks that the command line's completions offer its names.
pub const STATE_NAMES: &[(&str, StateSet)] = &[
    ("established", StateSet::single(TcpState::Established)),
    ("syn-sent", StateSet::single(TcpState::SynSent)),
    ("syn-recv", StateSet::single(TcpState::SynRecv)),
    ("syn-rcv", StateSet::single(TcpState::SynRecv)),
    ("fin-wait-1", StateSet::single(TcpState::FinWait1)),
    ("fin-wait-2", StateSet::single(TcpState::FinWait2)),
    ("time-wait", StateSet::single(TcpState::TimeWait)),
    ("closed", StateSet::single(TcpState::Close)),
    ("close", StateSet::single(TcpState::Close)),
    ("unconnected", StateSet::single(TcpState::Close)),
    ("close-wait", StateSet::single(TcpState::CloseWait)),
    ("last-ack", StateSet::single(TcpState::LastAck)),
    ("listening", StateSet::single(TcpState::Listen)),
    ("closing", StateSet::single(TcpState::Closing)),
    ("bound-inactive", StateSet::single(TcpState::BoundInactive)),
    // The kernel's state 0, which no socket is in.
    ("unknown", StateSet::single(TcpState::Unknown)),
    ("all", StateSet::ALL),
    ("connected", StateSet::CONNECTED),
    (
        "synchronized",
        StateSet::CONNECTED.without(TcpState::SynSent),
    ),
    ("bucket", BUCKET),
    // As in ss 7.1, `big` asks the kernel for its request sockets (`NEW_SYN_RECV`), which it
    // reports as SYN-RECV: the handshakes in progress, not the minisockets of `bucket`.
    (
        "big",
        StateSet::from_bits(StateSet::ALL.bits() & !BUCKET.bits()).with(TcpState::NewSynRecv),
    ),
];

/// The states a name stands for: one of [`STATE_NAMES`], compared without regard to case.
pub fn state_set(name: &str) -> Option<StateSet> {
    STATE_NAMES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|&(_, states)| states)
}

#[cfg(test)]
mod tests;
