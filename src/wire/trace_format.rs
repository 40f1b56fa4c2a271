//! The layout of a tracepoint's record, as the kernel describes it in tracefs
//! (`events/GROUP/NAME/format`, `Documentation/trace/events.rst`).
//!
//! Each field is one line, `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;`. The first four
//! (`common_*`, eight bytes) are the same for every event; what follows is the event's own,
//! and its offsets may change between kernels, so they are read here rather than assumed.

/// One field of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

/// A tracepoint's id and the fields of its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub id: u32,
    pub fields: Vec<Field>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("no ID line")]
    NoId,
    #[error("line {0} does not read as a field")]
    Field(usize),
    #[error("the record has no field {0}")]
    Missing(&'static str),
    #[error("field {name} is {size} bytes, not {expected}")]
    Size {
        name: &'static str,
        size: usize,
        expected: usize,
    },
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, FormatError> {
        let mut id = None;
        let mut fields = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(value) = line.strip_prefix("ID:") {
                id = value.trim().parse().ok();
            } else if line.starts_with("field:") {
                fields.push(field(line).ok_or(FormatError::Field(number + 1))?);
            }
        }
        Ok(Format {
            id: id.ok_or(FormatError::NoId)?,
            fields,
        })
    }

    /// The field called `name`, `size` bytes long (an array's whole size).
    pub fn field(&self, name: &'static str, size: usize) -> Result<&Field, FormatError> {
        let field = self
            .fields
            .iter()
            .find(|field| field.name == name)
            .ok_or(FormatError::Missing(name))?;
        if field.size != size {
            return Err(FormatError::Size {
                name,
                size: field.size,
                expected: size,
            });
        }
        Ok(field)
    }

    /// Where the record ends: the end of its last field.
    pub fn size(&self) -> usize {
        self.fields
            .iter()
            .map(|field| field.offset + field.size)
            .max()
            .unwrap_or(0)
    }
}

/// `field:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;` (fields separated by tabs)
fn field(line: &str) -> Option<Field> {
    let mut parts = line.split(';').map(str::trim);
    let declaration = parts.next()?.strip_prefix("field:")?;
    // The name is the declaration's last word, without an array's brackets.
    let name = declaration.rsplit([' ', '*']).next()?;
    let name = name.split('[').next()?.to_owned();
    let mut offset = None;
    let mut size = None;
    let mut signed = false;
    for part in parts {
        if let Some(value) = part.strip_prefix("offset:") {
            offset = value.parse().ok();
        } else if let Some(value) = part.strip_prefix("size:") {
            size = value.parse().ok();
        } else if let Some(value) = part.strip_prefix("signed:") {
            signed = value == "1";
        }
    }
    if name.is_empty() {
        return None;
    }
    Some(Field {
        name,
        offset: offset?,
        size: size?,
        signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kernel 6.18's `sock/inet_sock_set_state/format`, less its print format.
    const SET_STATE: &str = "name: inet_sock_set_state
ID: 2287
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int oldstate;\toffset:16;\tsize:4;\tsigned:1;
\tfield:int newstate;\toffset:20;\tsize:4;\tsigned:1;
\tfield:__u16 sport;\toffset:24;\tsize:2;\tsigned:0;
\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;
\tfield:__u16 family;\toffset:28;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:30;\tsize:2;\tsigned:0;
\tfield:__u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;
\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;
\tfield:__u8 saddr_v6[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:__u8 daddr_v6[16];\toffset:56;\tsize:16;\tsigned:0;

print fmt: \"family=%s\", REC->family
";

    #[test]
    fn the_kernels_format_file_reads() {
        let format = Format::parse(SET_STATE).unwrap();
        assert_eq!(format.id, 2287);
        assert_eq!(format.fields.len(), 15);
        assert_eq!(
            format.field("skaddr", 8).unwrap(),
            &Field {
                name: "skaddr".into(),
                offset: 8,
                size: 8,
                signed: false
            }
        );
        assert_eq!(format.field("saddr_v6", 16).unwrap().offset, 40);
        assert!(format.field("oldstate", 4).unwrap().signed);
        assert_eq!(format.size(), 72);
        assert_eq!(
            format.field("sport", 4),
            Err(FormatError::Size {
                name: "sport",
                size: 2,
                expected: 4
            })
        );
        assert_eq!(
            format.field("cookie", 8),
            Err(FormatError::Missing("cookie"))
        );
    }

    #[test]
    fn damaged_formats_are_errors() {
        assert_eq!(Format::parse("format:\n"), Err(FormatError::NoId));
        assert_eq!(
            Format::parse("ID: 1\n\tfield:int x;\toffset:z;\tsize:4;\n"),
            Err(FormatError::Field(2))
        );
    }
}
