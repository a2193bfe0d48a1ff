//! The IP-to-country table: sorted runs of addresses with one country, searched by binary search.
//!
//! The embedded file (`data/ip-country.bin.gz`, written by `scripts/update_ip_country.sh`) is a
//! gzip of, all integers little-endian:
//!
//! ```text
//! b"TXIPCC1\n"                 magic and layout version
//! n4: u32, n6: u32             number of IPv4 runs, of IPv6 runs
//! n4 × u32                     IPv4 run starts, each the difference from the previous start
//! n4 × [u8; 2]                 each IPv4 run's country code, b"\0\0" where none is known
//! n6 × u128, n6 × [u8; 2]      the same for IPv6
//! ```
//!
//! A run lasts until the next run's start (the last one to the end of the family's space).
//! Starts are strictly increasing; anything else, or a truncated or trailing byte, is an error:
//! a wrong table must leave the country unknown, never answer a wrong one.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flate2::read::GzDecoder;

const MAGIC: &[u8; 8] = b"TXIPCC1\n";
const NO_COUNTRY: [u8; 2] = [0, 0];
/// The decompressed table is about 7 MB; a larger one is not ours (or a decompression bomb).
const MAX_TABLE_BYTES: u64 = 64 << 20;

static EMBEDDED: &[u8] = include_bytes!("../data/ip-country.bin.gz");

/// A country as its ISO 3166-1 alpha-2 code (`"DE"`), the form the source database and
/// CloudFront's `CloudFront-Viewer-Country` header both use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// The country of a two-letter code in either case, `None` for anything else.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The upper-case code as a `&'static str` (one of the 676 two-letter codes, built at
    /// compile time): a visit carries it beside the strings it borrows from the request.
    pub fn code(self) -> &'static str {
        let [a, b] = self.0;
        let index = usize::from(a - b'A') * 26 + usize::from(b - b'A');
        CODES
            .get(index)
            .and_then(|code| std::str::from_utf8(code).ok())
            .unwrap_or("??")
    }

    /// The upper-case code, `"DE"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters: `from_code` and the table's parser check it.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// Every two-letter code, `AA` to `ZZ`, in order.
static CODES: [[u8; 2]; 676] = all_codes();

const fn all_codes() -> [[u8; 2]; 676] {
    let mut codes = [[0u8; 2]; 676];
    let mut i = 0;
    while i < 676 {
        // Both below 26: the casts cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        {
            codes[i] = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
        }
        i += 1;
    }
    codes
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

/// Why the table could not be read. The caller logs it once at start ("country unknown: …") and
/// goes on without countries.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("the IP-to-country table does not decompress: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("the IP-to-country table is larger than {MAX_TABLE_BYTES} bytes")]
    TooLarge,
    #[error("the IP-to-country table is malformed: {0}")]
    Malformed(&'static str),
}

/// Every `BLOCK`-th start is copied into a small index searched first, so that a lookup touches
/// a few cache lines of the large arrays instead of one per halving (README.md, "Measured").
const BLOCK: usize = 64;

/// One address family's runs: `starts[i]..starts[i + 1]` is `codes[i]`.
struct Family<T> {
    starts: Box<[T]>,
    codes: Box<[[u8; 2]]>,
    /// `starts[0]`, `starts[BLOCK]`, `starts[2 * BLOCK]`, …
    index: Box<[T]>,
}

impl<T: Copy + Ord> Family<T> {
    fn new(starts: Vec<T>, codes: Vec<[u8; 2]>) -> Self {
        Self {
            index: starts.iter().step_by(BLOCK).copied().collect(),
            starts: starts.into_boxed_slice(),
            codes: codes.into_boxed_slice(),
        }
    }

    fn find(&self, address: T) -> Option<Country> {
        // The last run starting at or before the address is in the last block whose first
        // start is at or before it.
        let block = self
            .index
            .partition_point(|&start| start <= address)
            .checked_sub(1)?;
        let from = block * BLOCK;
        let to = self.starts.len().min(from + BLOCK);
        let within = self.starts.get(from..to)?;
        let run = from + within.partition_point(|&start| start <= address) - 1;
        let code = *self.codes.get(run)?;
        (code != NO_COUNTRY).then_some(Country(code))
    }
}

/// The country of an IP address, from the embedded open database (see the crate's README for
/// its source, licence and attribution). Built once at start and shared: a lookup allocates
/// nothing and takes a few tens of nanoseconds.
pub struct Countries {
    v4: Family<u32>,
    v6: Family<u128>,
}

impl fmt::Debug for Countries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Countries")
            .field("ipv4_runs", &self.v4.starts.len())
            .field("ipv6_runs", &self.v6.starts.len())
            .finish()
    }
}

impl Countries {
    /// The table embedded in the binary (decompressed and checked: some tens of milliseconds,
    /// once per process).
    pub fn load() -> Result<Self, GeoError> {
        Self::from_gzip(EMBEDDED)
    }

    /// A table in the embedded file's format.
    pub fn from_gzip(gzip: &[u8]) -> Result<Self, GeoError> {
        Self::from_gzip_at_most(gzip, MAX_TABLE_BYTES)
    }

    fn from_gzip_at_most(gzip: &[u8], max_bytes: u64) -> Result<Self, GeoError> {
        let mut table = Vec::with_capacity(8 << 20);
        GzDecoder::new(gzip)
            .take(max_bytes + 1)
            .read_to_end(&mut table)
            .map_err(GeoError::Gzip)?;
        if table.len() as u64 > max_bytes {
            return Err(GeoError::TooLarge);
        }
        Self::parse(&table)
    }

    fn parse(table: &[u8]) -> Result<Self, GeoError> {
        let mut reader = Reader(
            table
                .strip_prefix(MAGIC)
                .ok_or(GeoError::Malformed("not a table of this format"))?,
        );
        let n4 = reader.count()?;
        let n6 = reader.count()?;
        let v4 = reader.family(n4, u32::from_le_bytes, u32::checked_add)?;
        let v6 = reader.family(n6, u128::from_le_bytes, u128::checked_add)?;
        if !reader.0.is_empty() {
            return Err(GeoError::Malformed("bytes after the IPv6 runs"));
        }
        Ok(Self { v4, v6 })
    }

    /// The country of a visitor's address; `None` where the database knows none, and always for
    /// an address that is not on the public internet (private, loopback, link-local, shared
    /// address space, documentation, multicast): such an address is a proxy's, never a visitor's.
    /// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is looked up as IPv4.
    pub fn lookup(&self, address: IpAddr) -> Option<Country> {
        match address.to_canonical() {
            IpAddr::V4(v4) if is_public_v4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) if is_public_v6(v6) => self.v6.find(u128::from(v6)),
            _ => None,
        }
    }

    /// How many runs of one country the table holds (IPv4, IPv6), for the start-up log.
    pub fn runs(&self) -> (usize, usize) {
        (self.v4.starts.len(), self.v6.starts.len())
    }

    /// The table's own answer, without the public-address filter: the tests check that the data
    /// itself places no private range in a country.
    #[cfg(test)]
    fn lookup_unfiltered(&self, address: IpAddr) -> Option<Country> {
        match address {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        }
    }
}

/// Whether `address` is on the public internet, so that a country may be known for it (a
/// private, loopback, link-local, shared, documentation or reserved address never has one): a
/// caller asks this before loading the table at all.
pub fn is_public(address: IpAddr) -> bool {
    match address.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (b & 0xc0) == 64;
    let reserved = a >= 240;
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || shared
        || reserved
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let documentation = ip.segments()[..2] == [0x2001, 0x0db8];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || documentation)
}

/// The bytes of the table not read yet.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], GeoError> {
        if self.0.len() < n {
            return Err(GeoError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn count(&mut self) -> Result<usize, GeoError> {
        let bytes = self.take(4)?.try_into().expect("4 bytes");
        usize::try_from(u32::from_le_bytes(bytes)).map_err(|_| GeoError::Malformed("count"))
    }

    /// `n` delta-encoded starts of `W` bytes each, then `n` codes.
    fn family<T: Copy + Ord + Default, const W: usize>(
        &mut self,
        n: usize,
        decode: fn([u8; W]) -> T,
        add: fn(T, T) -> Option<T>,
    ) -> Result<Family<T>, GeoError> {
        let size = n.checked_mul(W).ok_or(GeoError::Malformed("count"))?;
        let mut starts = Vec::with_capacity(n);
        let mut previous: Option<T> = None;
        for chunk in self.take(size)?.chunks_exact(W) {
            let delta = decode(chunk.try_into().expect("W bytes"));
            let start = match previous {
                None => delta,
                Some(before) if delta > T::default() => add(before, delta)
                    .ok_or(GeoError::Malformed("a start past the last address"))?,
                Some(_) => return Err(GeoError::Malformed("starts not increasing")),
            };
            starts.push(start);
            previous = Some(start);
        }
        let codes = self
            .take(n.checked_mul(2).ok_or(GeoError::Malformed("count"))?)?
            .chunks_exact(2)
            .map(|c| match [c[0], c[1]] {
                NO_COUNTRY => Ok(NO_COUNTRY),
                code if code.iter().all(u8::is_ascii_uppercase) => Ok(code),
                _ => Err(GeoError::Malformed(
                    "a country code that is not two letters",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Family::new(starts, codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn countries() -> Countries {
        Countries::load().expect("the embedded table loads")
    }

    fn country(code: &str) -> Option<Country> {
        Some(Country::from_code(code).expect("a code"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// The next address up, or `None` past the family's last one.
    fn next(address: IpAddr) -> Option<IpAddr> {
        match address {
            IpAddr::V4(v4) => u32::from(v4)
                .checked_add(1)
                .map(|n| Ipv4Addr::from(n).into()),
            IpAddr::V6(v6) => u128::from(v6)
                .checked_add(1)
                .map(|n| Ipv6Addr::from(n).into()),
        }
    }

    /// The sample's rows (`first,last,CC`, as the source CSV writes them), in file order.
    fn sample() -> Vec<(IpAddr, IpAddr, Country)> {
        include_str!("../data/ip-country-sample.csv")
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                let [first, last, code] = fields[..] else {
                    panic!("a row of three fields: {line}");
                };
                (ip(first), ip(last), country(code).expect("a code"))
            })
            .collect()
    }

    #[test]
    fn codes_are_static_and_every_pair_of_letters_has_its_own() {
        for code in ["AA", "DE", "US", "ZZ"] {
            let c = country(code).unwrap();
            assert_eq!(c.code(), code);
            assert_eq!(c.code(), c.as_str());
        }
        assert_eq!(CODES.len(), 676);
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn only_addresses_on_the_public_internet_are_public() {
        for text in ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip(text)), "{text}");
        }
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip(text)), "{text}");
        }
    }

    #[test]
    fn well_known_resolvers_are_in_their_operators_countries() {
        let countries = countries();
        assert_eq!(countries.lookup(ip("8.8.8.8")), country("US"));
        assert_eq!(countries.lookup(ip("2001:4860:4860::8888")), country("US"));
        assert_eq!(countries.lookup(ip("2606:4700:4700::1111")), country("US"));
        // APNIC's research prefix, registered in Australia.
        assert_eq!(countries.lookup(ip("1.1.1.1")), country("AU"));
    }

    #[test]
    fn every_sampled_source_row_answers_its_country_at_both_ends() {
        let countries = countries();
        let rows = sample();
        let v6 = rows.iter().filter(|(first, ..)| first.is_ipv6()).count();
        assert!(
            rows.len() > 150 && v6 > 50,
            "{} rows, {v6} IPv6",
            rows.len()
        );
        for (first, last, code) in &rows {
            assert_eq!(
                countries.lookup(*first),
                Some(*code),
                "first address of {first}-{last}"
            );
            assert_eq!(
                countries.lookup(*last),
                Some(*code),
                "last address of {first}-{last}"
            );
        }
    }

    #[test]
    fn the_address_past_a_sampled_row_belongs_to_the_next_row_or_to_nobody() {
        let countries = countries();
        let rows = sample();
        let mut checked = 0;
        for pair in rows.windows(2) {
            let [(_, last, code), (next_first, _, next_code)] = pair else {
                unreachable!()
            };
            let Some(past) = next(*last) else { continue };
            if past == *next_first {
                // Two touching rows of one country would have been merged by the source.
                assert_ne!(code, next_code, "{last} and {next_first}");
                assert_eq!(countries.lookup(past), Some(*next_code), "{past}");
                checked += 1;
            }
        }
        assert!(checked > 40, "only {checked} touching rows sampled");
    }

    #[test]
    fn an_ipv4_address_written_as_ipv6_is_looked_up_as_ipv4() {
        let countries = countries();
        assert_eq!(countries.lookup(ip("::ffff:8.8.8.8")), country("US"));
        assert_eq!(countries.lookup(ip("::ffff:1.1.1.1")), country("AU"));
    }

    #[test]
    fn addresses_off_the_public_internet_have_no_country() {
        let countries = countries();
        let private = [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ];
        for address in private {
            assert_eq!(countries.lookup(ip(address)), None, "{address}");
        }
        // Nor does the table itself, although its source places 172.16.0.0/12 and 192.168.0.0/16
        // in AU and 2001:db8::/32 in JP (scripts/update_ip_country.sh blanks them).
        for address in private {
            assert_eq!(countries.lookup_unfiltered(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn the_embedded_table_holds_both_families_and_about_every_country() {
        let countries = countries();
        let (v4, v6) = countries.runs();
        assert!(
            v4 > 100_000 && v6 > 100_000,
            "{v4} IPv4 runs, {v6} IPv6 runs"
        );
        let distinct: std::collections::BTreeSet<[u8; 2]> =
            countries.v4.codes.iter().copied().collect();
        assert!(distinct.len() > 200, "{} codes", distinct.len());
    }

    /// A table in the format, from (start, code) runs; `b"\0\0"` for no country.
    fn table(v4: &[(u32, &[u8; 2])], v6: &[(u128, &[u8; 2])]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(u32::try_from(v4.len()).unwrap().to_le_bytes());
        out.extend(u32::try_from(v6.len()).unwrap().to_le_bytes());
        let mut previous = 0;
        for (start, _) in v4 {
            out.extend((start - previous).to_le_bytes());
            previous = *start;
        }
        v4.iter().for_each(|(_, code)| out.extend(*code));
        let mut previous = 0;
        for (start, _) in v6 {
            out.extend((start - previous).to_le_bytes());
            previous = *start;
        }
        v6.iter().for_each(|(_, code)| out.extend(*code));
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_small_table_answers_at_the_edges_of_its_runs() {
        let v4 = [
            (0x0800_0000, b"US"),
            (0x0800_0100, b"\0\0"),
            (0x0800_0200, b"DE"),
        ];
        let v6 = [(0x2a00_u128 << 112, b"FR")];
        let countries = Countries::from_gzip(&gzip(&table(&v4, &v6))).unwrap();
        assert_eq!(
            countries.lookup(ip("7.255.255.255")),
            None,
            "before the first run"
        );
        assert_eq!(countries.lookup(ip("8.0.0.0")), country("US"));
        assert_eq!(countries.lookup(ip("8.0.0.255")), country("US"));
        assert_eq!(countries.lookup(ip("8.0.1.0")), None, "a gap");
        assert_eq!(countries.lookup(ip("8.0.2.0")), country("DE"));
        assert_eq!(
            countries.lookup(ip("223.255.255.255")),
            country("DE"),
            "to the end"
        );
        assert_eq!(countries.lookup(ip("29ff:ffff::1")), None);
        assert_eq!(countries.lookup(ip("2a00::")), country("FR"));
        // A table that places a private range in a country is not believed there.
        assert_eq!(countries.lookup_unfiltered(ip("10.0.0.1")), country("DE"));
        assert_eq!(countries.lookup(ip("10.0.0.1")), None);
        assert_eq!(countries.lookup(ip("192.168.0.1")), None);
        assert_eq!(countries.lookup(ip("11.0.0.1")), country("DE"));
        assert_eq!(countries.lookup_unfiltered(ip("ff02::1")), country("FR"));
        assert_eq!(countries.lookup(ip("ff02::1")), None);
    }

    #[test]
    fn the_block_index_finds_the_same_run_as_a_plain_binary_search() {
        // Runs of 1 to 7 addresses, enough for many blocks; every fourth without a country.
        // The same runs in IPv4 from 8.0.0.0 and in IPv6 from 2a00::.
        let codes: [&[u8; 2]; 4] = [b"US", b"\0\0", b"DE", b"FR"];
        let mut v4 = Vec::new();
        let mut start = 0x0800_0000_u32;
        for n in 0..(BLOCK * BLOCK * 2 + 3) {
            v4.push((start, codes[n % 4]));
            start += u32::try_from(n % 7 + 1).unwrap();
        }
        let v6_base = 0x2a00_u128 << 112;
        let to_v6 = |a: u32| v6_base + u128::from(a - 0x0800_0000);
        let v6: Vec<(u128, &[u8; 2])> = v4.iter().map(|(a, code)| (to_v6(*a), *code)).collect();
        let countries = Countries::parse(&table(&v4, &v6)).unwrap();
        assert_eq!(countries.v4.index.len(), BLOCK * 2 + 1);
        for address in 0x07ff_fff0..start + 16 {
            let expected = v4
                .partition_point(|(first, _)| *first <= address)
                .checked_sub(1)
                .and_then(|run| Country::from_code(std::str::from_utf8(v4[run].1).ok()?));
            let found = countries.lookup(IpAddr::V4(Ipv4Addr::from(address)));
            assert_eq!(found, expected, "{}", Ipv4Addr::from(address));
            if address >= 0x0800_0000 {
                let found = countries.lookup(IpAddr::V6(Ipv6Addr::from(to_v6(address))));
                assert_eq!(found, expected, "{}", Ipv6Addr::from(to_v6(address)));
            }
        }
    }

    fn error_of(gzipped: &[u8]) -> String {
        Countries::from_gzip(gzipped).unwrap_err().to_string()
    }

    #[test]
    fn a_corrupt_table_is_an_error_never_a_panic() {
        let good = table(&[(1, b"US"), (5, b"DE")], &[(1, b"FR")]);
        assert!(Countries::from_gzip(&gzip(&good)).is_ok());
        assert!(error_of(b"not gzip at all").contains("does not decompress"));
        let compressed = gzip(&good);
        let cut = &compressed[..compressed.len() - 10];
        assert!(
            error_of(cut).contains("does not decompress"),
            "{}",
            error_of(cut)
        );
        assert!(error_of(&gzip(b"TXIPCC2\nxxxxxxxx")).contains("not a table of this format"));
        assert!(error_of(&gzip(&good[..good.len() - 1])).contains("truncated"));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(error_of(&gzip(&trailing)).contains("bytes after"));
        let mut huge_count = good.clone();
        huge_count[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(error_of(&gzip(&huge_count)).contains("truncated"));
        let mut bad_code = good.clone();
        bad_code[24] = b'u';
        assert!(error_of(&gzip(&bad_code)).contains("two letters"));
        let repeated = table(&[(1, b"US"), (1, b"DE")], &[]);
        assert!(error_of(&gzip(&repeated)).contains("not increasing"));
        let mut overflow = table(&[(1, b"US"), (2, b"DE")], &[]);
        overflow[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(error_of(&gzip(&overflow)).contains("past the last address"));
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let bomb = gzip(&vec![0; 1 << 20]);
        assert!(bomb.len() < 8 << 10);
        let refused = Countries::from_gzip_at_most(&bomb, (1 << 20) - 1);
        assert!(matches!(refused, Err(GeoError::TooLarge)), "{refused:?}");
        // At the limit it decompresses, and then fails as the malformed table it is.
        let read = Countries::from_gzip_at_most(&bomb, 1 << 20);
        assert!(matches!(read, Err(GeoError::Malformed(_))), "{read:?}");
    }

    #[test]
    fn codes_are_read_in_either_case_and_shown_upper_case() {
        assert_eq!(Country::from_code("de").unwrap().to_string(), "DE");
        assert_eq!(Country::from_code("DE"), Country::from_code("dE"));
        for bad in ["", "D", "DEU", "D1", "É"] {
            assert_eq!(Country::from_code(bad), None, "{bad:?}");
        }
    }
}
