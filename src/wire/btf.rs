//! The BPF Type Format (`include/uapi/linux/btf.h`, `Documentation/bpf/btf.rst`), read far
//! enough to find where a member lies inside a kernel struct.
//!
//! The running kernel describes its own types in /sys/kernel/btf/vmlinux: a header, then a
//! section of type records and a section of NUL-terminated names. Each record is a
//! `struct btf_type` followed by data whose length depends on its kind; types are numbered from
//! 1 in the order they appear. sockscope asks it one kind of question: at which byte of
//! `struct sock_common` is `skc_net.net` today? The answer differs between kernels and builds,
//! so it is never written into the program.

use zerocopy::byteorder::{LittleEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

pub const BTF_MAGIC: u16 = 0xeb9f;

pub const BTF_KIND_INT: u32 = 1;
pub const BTF_KIND_PTR: u32 = 2;
pub const BTF_KIND_ARRAY: u32 = 3;
pub const BTF_KIND_STRUCT: u32 = 4;
pub const BTF_KIND_UNION: u32 = 5;
pub const BTF_KIND_ENUM: u32 = 6;
pub const BTF_KIND_FWD: u32 = 7;
pub const BTF_KIND_TYPEDEF: u32 = 8;
pub const BTF_KIND_VOLATILE: u32 = 9;
pub const BTF_KIND_CONST: u32 = 10;
pub const BTF_KIND_RESTRICT: u32 = 11;
pub const BTF_KIND_FUNC: u32 = 12;
pub const BTF_KIND_FUNC_PROTO: u32 = 13;
pub const BTF_KIND_VAR: u32 = 14;
pub const BTF_KIND_DATASEC: u32 = 15;
pub const BTF_KIND_FLOAT: u32 = 16;
pub const BTF_KIND_DECL_TAG: u32 = 17;
pub const BTF_KIND_TYPE_TAG: u32 = 18;
pub const BTF_KIND_ENUM64: u32 = 19;

/// `struct btf_header`. BTF is in the byte order of the machine that made it; the magic says
/// which, and sockscope reads only its own (little-endian x86 and arm64).
#[derive(Clone, Copy, Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfHeader {
    pub magic: U16<LittleEndian>,
    pub version: u8,
    pub flags: u8,
    pub hdr_len: U32<LittleEndian>,
    pub type_off: U32<LittleEndian>,
    pub type_len: U32<LittleEndian>,
    pub str_off: U32<LittleEndian>,
    pub str_len: U32<LittleEndian>,
}

/// `struct btf_type`: `size_or_type` is a size for structs, unions, ints and enums, and the
/// type referred to for pointers, typedefs and qualifiers.
#[derive(Clone, Copy, Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfType {
    pub name_off: U32<LittleEndian>,
    pub info: U32<LittleEndian>,
    pub size_or_type: U32<LittleEndian>,
}

impl BtfType {
    pub fn kind(&self) -> u32 {
        (self.info.get() >> 24) & 0x1f
    }

    pub fn vlen(&self) -> usize {
        (self.info.get() & 0xffff) as usize
    }

    pub fn kind_flag(&self) -> bool {
        self.info.get() >> 31 == 1
    }
}

/// `struct btf_member`: with the kind flag set, `offset` holds a bitfield's size in its top
/// eight bits and the bit offset below.
#[derive(Clone, Copy, Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BtfMember {
    pub name_off: U32<LittleEndian>,
    pub type_id: U32<LittleEndian>,
    pub offset: U32<LittleEndian>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BtfError {
    #[error("not BTF (magic {0:#06x})")]
    Magic(u16),
    #[error("BTF is truncated at byte {0}")]
    Truncated(usize),
    #[error("BTF type {0} has unknown kind {1}")]
    Kind(u32, u32),
    #[error("the kernel's BTF has no struct {0}")]
    NoStruct(String),
    #[error("the kernel's BTF has no {0}")]
    NoType(String),
    #[error("struct {0} has no member {1} in the kernel's BTF")]
    NoMember(String, String),
    #[error("{0}.{1} is a bitfield")]
    Bitfield(String, String),
}

/// Where a member lies: its byte offset from the start of the outer struct, and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub offset: usize,
    pub size: usize,
}

/// The types of one BTF blob, indexed by id.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte offset of each type's record within `types`; index 0 stands for `void`.
    starts: Vec<u32>,
}

impl<'a> Btf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        let (header, _) =
            BtfHeader::read_from_prefix(data).map_err(|_| BtfError::Truncated(data.len()))?;
        if header.magic.get() != BTF_MAGIC {
            return Err(BtfError::Magic(header.magic.get()));
        }
        let body = header.hdr_len.get() as usize;
        let section = |off: U32<LittleEndian>, len: U32<LittleEndian>| {
            let start = body + off.get() as usize;
            let end = start + len.get() as usize;
            data.get(start..end).ok_or(BtfError::Truncated(end))
        };
        let types = section(header.type_off, header.type_len)?;
        let strings = section(header.str_off, header.str_len)?;
        let mut starts = vec![0];
        let mut at = 0;
        while at < types.len() {
            starts.push(at as u32);
            let (record, _) =
                BtfType::read_from_prefix(&types[at..]).map_err(|_| BtfError::Truncated(at))?;
            at += size_of::<BtfType>() + trailing_len(&record, starts.len() as u32 - 1)?;
        }
        if at != types.len() {
            return Err(BtfError::Truncated(
                body + header.type_off.get() as usize + at,
            ));
        }
        Ok(Btf {
            types,
            strings,
            starts,
        })
    }

    /// The id of the type of kind `kind` called `name`.
    pub fn id_of(&self, kind: u32, name: &str) -> Option<u32> {
        (1..self.starts.len() as u32).find(|&id| {
            let record = self.record(id);
            record.kind() == kind && self.name(record.name_off.get()) == name
        })
    }

    /// The id of the struct called `name`.
    pub fn struct_named(&self, name: &str) -> Result<u32, BtfError> {
        self.id_of(BTF_KIND_STRUCT, name)
            .ok_or_else(|| BtfError::NoStruct(name.to_owned()))
    }

    /// Where `path` (member names, each inside the one before) lies in struct `outer`:
    /// `place("sock_common", &["skc_net", "net"])`. Members of anonymous structs and unions
    /// are found as C finds them, by their own names.
    pub fn place(&self, outer: &str, path: &[&str]) -> Result<Place, BtfError> {
        let mut id = self.struct_named(outer)?;
        let mut offset = 0;
        let mut size = self.size(id);
        let mut within = outer.to_owned();
        for name in path {
            let (member_offset, member_type) = self
                .member(id, name, &within)?
                .ok_or_else(|| BtfError::NoMember(within.clone(), (*name).to_owned()))?;
            offset += member_offset;
            id = self.resolve(member_type);
            size = self.size(id);
            within = (*name).to_owned();
        }
        Ok(Place { offset, size })
    }

    /// A member's byte offset and type, looked for in struct or union `id` and in its
    /// anonymous members.
    fn member(&self, id: u32, name: &str, within: &str) -> Result<Option<(usize, u32)>, BtfError> {
        let record = self.record(id);
        if !matches!(record.kind(), BTF_KIND_STRUCT | BTF_KIND_UNION) {
            return Ok(None);
        }
        for member in self.members(id) {
            let bits = if record.kind_flag() {
                let bitfield = member.offset.get() >> 24;
                if bitfield != 0 && self.name(member.name_off.get()) == name {
                    return Err(BtfError::Bitfield(within.to_owned(), name.to_owned()));
                }
                member.offset.get() & 0x00ff_ffff
            } else {
                member.offset.get()
            };
            if bits % 8 != 0 {
                continue;
            }
            let offset = (bits / 8) as usize;
            let member_name = self.name(member.name_off.get());
            if member_name == name {
                return Ok(Some((offset, member.type_id.get())));
            }
            if member_name.is_empty() {
                let inner = self.resolve(member.type_id.get());
                if let Some((inner_offset, found)) = self.member(inner, name, within)? {
                    return Ok(Some((offset + inner_offset, found)));
                }
            }
        }
        Ok(None)
    }

    /// The type behind typedefs and qualifiers.
    fn resolve(&self, mut id: u32) -> u32 {
        // Bounded: a chain of qualifiers is never longer than the number of types.
        for _ in 0..self.starts.len() {
            let record = self.record(id);
            match record.kind() {
                BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT
                | BTF_KIND_TYPE_TAG => id = record.size_or_type.get(),
                _ => break,
            }
        }
        id
    }

    /// The size in bytes of a resolved type.
    fn size(&self, id: u32) -> usize {
        let record = self.record(id);
        match record.kind() {
            BTF_KIND_PTR => 8,
            BTF_KIND_INT | BTF_KIND_STRUCT | BTF_KIND_UNION | BTF_KIND_ENUM | BTF_KIND_ENUM64
            | BTF_KIND_FLOAT => record.size_or_type.get() as usize,
            BTF_KIND_ARRAY => {
                let array = self.trailing(id);
                let element = u32::from_le_bytes(array[0..4].try_into().unwrap_or_default());
                let count = u32::from_le_bytes(array[8..12].try_into().unwrap_or_default());
                self.size(self.resolve(element)) * count as usize
            }
            _ => 0,
        }
    }

    fn record(&self, id: u32) -> BtfType {
        let Some(&start) = self.starts.get(id as usize).filter(|_| id != 0) else {
            // `void` and ids past the end read as an empty record of kind 0.
            return BtfType::read_from_bytes(&[0; 12]).expect("twelve bytes");
        };
        BtfType::read_from_prefix(&self.types[start as usize..])
            .expect("checked in parse")
            .0
    }

    fn trailing(&self, id: u32) -> &[u8] {
        let start = self.starts[id as usize] as usize + size_of::<BtfType>();
        &self.types[start..]
    }

    fn members(&self, id: u32) -> impl Iterator<Item = BtfMember> + '_ {
        let count = self.record(id).vlen();
        self.trailing(id)
            .chunks_exact(size_of::<BtfMember>())
            .take(count)
            .filter_map(|chunk| BtfMember::read_from_bytes(chunk).ok())
    }

    fn name(&self, off: u32) -> &str {
        let tail = self.strings.get(off as usize..).unwrap_or_default();
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        std::str::from_utf8(&tail[..end]).unwrap_or_default()
    }
}

/// The length of the data that follows a type record, by its kind.
fn trailing_len(record: &BtfType, id: u32) -> Result<usize, BtfError> {
    let vlen = record.vlen();
    Ok(match record.kind() {
        BTF_KIND_INT | BTF_KIND_VAR | BTF_KIND_DECL_TAG => 4,
        BTF_KIND_PTR | BTF_KIND_FWD | BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST
        | BTF_KIND_RESTRICT | BTF_KIND_FUNC | BTF_KIND_FLOAT | BTF_KIND_TYPE_TAG => 0,
        BTF_KIND_ARRAY => 12,
        BTF_KIND_STRUCT | BTF_KIND_UNION | BTF_KIND_DATASEC | BTF_KIND_ENUM64 => 12 * vlen,
        BTF_KIND_ENUM | BTF_KIND_FUNC_PROTO => 8 * vlen,
        kind => return Err(BtfError::Kind(id, kind)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob in the kernel's format, built by hand: the strings, then the records.
    struct Blob {
        types: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Blob {
        fn new() -> Blob {
            Blob {
                types: Vec::new(),
                strings: vec![0],
            }
        }

        fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            off
        }

        fn record(&mut self, name: &str, kind: u32, flag: bool, vlen: usize, value: u32) {
            let name = self.name(name);
            let info = (u32::from(flag) << 31) | (kind << 24) | vlen as u32;
            for word in [name, info, value] {
                self.types.extend_from_slice(&word.to_le_bytes());
            }
        }

        fn words(&mut self, words: &[u32]) {
            for word in words {
                self.types.extend_from_slice(&word.to_le_bytes());
            }
        }

        fn member(&mut self, name: &str, type_id: u32, bits: u32) {
            let name = self.name(name);
            self.words(&[name, type_id, bits]);
        }

        fn bytes(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
            out.extend_from_slice(&[1, 0]);
            let words = [
                24,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ];
            for word in words {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    /// `struct ns_common { u64 stash; unsigned int inum; }`, `struct net { int pad[4]; struct
    /// ns_common ns; }`, `typedef struct { struct net *net; } possible_net_t;`, and
    /// `struct sock_common { union { u64 addrpair; u32 a; }; u16 flags:4; possible_net_t
    /// skc_net; }`.
    fn blob() -> Vec<u8> {
        let mut b = Blob::new();
        b.record("unsigned int", BTF_KIND_INT, false, 0, 4); // 1
        b.words(&[32]);
        b.record("u64", BTF_KIND_INT, false, 0, 8); // 2
        b.words(&[64]);
        b.record("ns_common", BTF_KIND_STRUCT, false, 2, 16); // 3
        b.member("stash", 2, 0);
        b.member("inum", 1, 64);
        b.record("", BTF_KIND_ARRAY, false, 0, 0); // 4: int[4]
        b.words(&[1, 1, 4]);
        b.record("net", BTF_KIND_STRUCT, false, 2, 32); // 5
        b.member("pad", 4, 0);
        b.member("ns", 3, 128);
        b.record("", BTF_KIND_PTR, false, 0, 5); // 6
        b.record("", BTF_KIND_STRUCT, false, 1, 8); // 7
        b.member("net", 6, 0);
        b.record("possible_net_t", BTF_KIND_TYPEDEF, false, 0, 7); // 8
        b.record("", BTF_KIND_UNION, false, 2, 8); // 9
        b.member("addrpair", 2, 0);
        b.member("a", 1, 0);
        b.record("sock_common", BTF_KIND_STRUCT, true, 3, 24); // 10
        b.member("", 9, 0);
        b.member("flags", 1, (4 << 24) | 64);
        b.member("skc_net", 8, 128);
        b.bytes()
    }

    #[test]
    fn members_are_found_through_typedefs_and_anonymous_unions() {
        let data = blob();
        let btf = Btf::parse(&data).unwrap();
        assert_eq!(
            btf.place("sock_common", &["skc_net", "net"]).unwrap(),
            Place {
                offset: 16,
                size: 8
            }
        );
        assert_eq!(
            btf.place("net", &["ns", "inum"]).unwrap(),
            Place {
                offset: 24,
                size: 4
            }
        );
        assert_eq!(
            btf.place("sock_common", &["a"]).unwrap(),
            Place { offset: 0, size: 4 }
        );
        assert_eq!(btf.place("net", &["pad"]).unwrap().size, 16);
    }

    #[test]
    fn what_is_missing_is_named() {
        let data = blob();
        let btf = Btf::parse(&data).unwrap();
        assert_eq!(
            btf.place("sock", &["x"]),
            Err(BtfError::NoStruct("sock".into()))
        );
        assert_eq!(
            btf.place("net", &["ns", "count"]),
            Err(BtfError::NoMember("ns".into(), "count".into()))
        );
        assert_eq!(
            btf.place("sock_common", &["flags"]),
            Err(BtfError::Bitfield("sock_common".into(), "flags".into()))
        );
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        let data = blob();
        for len in 0..data.len() {
            let _ = Btf::parse(&data[..len]).map(|btf| btf.place("net", &["ns", "inum"]));
        }
        let mut wrong = data.clone();
        wrong[0] = 0;
        assert!(matches!(Btf::parse(&wrong), Err(BtfError::Magic(_))));
    }
}
