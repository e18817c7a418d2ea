//! Deflate with run-length matches only, for payloads that are mostly runs of one byte.
//!
//! A sparse gene quantized to 8 bits is one code (the code of 0) repeated through the
//! cells, with the stored cells' codes scattered over it. LZ77 matching spends most of
//! its time hashing those runs, yet a run costs the same few bits however it is found.
//! This encoder finds runs a machine word at a time and codes each as a distance-1 match
//! (the idea of zlib's `Z_RLE` strategy), then writes one final block with the cheapest
//! of dynamic Huffman, fixed Huffman and stored coding, whose sizes it computes exactly
//! before writing any of them.
//!
//! The stream is plain RFC 1951: any inflater reads it. Both Huffman codes are kept
//! complete (at least two used symbols each), the form every decoder accepts.

use super::gzip::deflate_stored;

/// The longest match deflate can express.
const MAX_MATCH: usize = 258;
/// The shortest match deflate can express.
const MIN_MATCH: usize = 3;
/// Literal/length alphabet: 256 literals, end-of-block, 29 length codes.
const LITLEN_SYMBOLS: usize = 286;
const END_OF_BLOCK: usize = 256;
/// Every match here has distance 1, which is distance code 0 with no extra bits.
/// Distance code 1 is declared too (never used) so the distance code is complete.
const DIST_SYMBOLS: usize = 2;
/// Code-length alphabet and the order its lengths are sent in (RFC 1951 §3.2.7).
const CODELEN_SYMBOLS: usize = 19;
const CODELEN_ORDER: [usize; CODELEN_SYMBOLS] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Length codes 257..=285: the base length and extra bits of each (RFC 1951 §3.2.5).
const LENGTH_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

/// A token: a literal byte (`< 256`) or a distance-1 match of `token - 256` bytes.
type Token = u16;

/// A reusable encoder; it keeps its token buffer between payloads.
#[derive(Default)]
pub struct RunDeflate {
    tokens: Vec<Token>,
}

impl RunDeflate {
    pub fn new() -> Self {
        RunDeflate::default()
    }

    /// Append one complete raw deflate stream holding `payload` to `out`.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        tokenize(payload, &mut self.tokens);
        let freqs = Frequencies::of(&self.tokens);
        let dynamic = DynamicCode::build(&freqs);
        let fixed_bits = fixed_block_bits(&freqs);
        let stored_bits = stored_bits(payload.len());
        if stored_bits < dynamic.block_bits.min(fixed_bits) {
            // The stream starts byte-aligned, so gzip's stored fallback is this block.
            deflate_stored(payload, out);
            return;
        }
        let mut w = BitWriter::new(out);
        if fixed_bits <= dynamic.block_bits {
            w.put(0b011, 3); // final block, fixed Huffman
            write_tokens(&mut w, &self.tokens, &fixed_code());
        } else {
            w.put(0b101, 3); // final block, dynamic Huffman
            dynamic.write_header(&mut w);
            write_tokens(&mut w, &self.tokens, &dynamic.code);
        }
        w.finish();
    }
}

/// Split `payload` into literals and distance-1 matches: at each position, a run of at
/// least [`MIN_MATCH`] copies of the previous byte becomes a match, anything else a literal.
fn tokenize(payload: &[u8], tokens: &mut Vec<Token>) {
    tokens.clear();
    let mut i = 0;
    while i < payload.len() {
        if i > 0 {
            let run = run_length(&payload[i..], payload[i - 1], MAX_MATCH);
            if run >= MIN_MATCH {
                tokens.push(256 + run as Token);
                i += run;
                continue;
            }
        }
        tokens.push(Token::from(payload[i]));
        i += 1;
    }
}

/// How many leading bytes of `bytes` (at most `max`) equal `b`, compared a word at a time.
fn run_length(bytes: &[u8], b: u8, max: usize) -> usize {
    let bytes = &bytes[..bytes.len().min(max)];
    let splat = u64::from_ne_bytes([b; 8]);
    let mut words = bytes.chunks_exact(8);
    let mut n = 0;
    for word in &mut words {
        let diff = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ splat.to_le();
        if diff != 0 {
            // The lowest differing byte of a little-endian word is the first in memory.
            return n + diff.trailing_zeros() as usize / 8;
        }
        n += 8;
    }
    n + words.remainder().iter().take_while(|&&x| x == b).count()
}

/// Symbol `257..=285` and extra bits `(value, count)` of a match length in `3..=258`.
fn length_symbol(len: usize) -> (usize, u32, u32) {
    let code = usize::from(LENGTH_CODE[len]);
    (257 + code, (len - LENGTH_BASE[code] as usize) as u32, u32::from(LENGTH_EXTRA[code]))
}

/// The length code (0–28) of every match length, indexed by length.
const LENGTH_CODE: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut len = MIN_MATCH;
    while len <= MAX_MATCH {
        // The last code whose base is not above `len`.
        let mut code = 0;
        while code + 1 < LENGTH_BASE.len() && LENGTH_BASE[code + 1] as usize <= len {
            code += 1;
        }
        table[len] = code as u8;
        len += 1;
    }
    table
};

/// Symbol counts of a token stream, end-of-block included.
struct Frequencies {
    litlen: [u32; LITLEN_SYMBOLS],
    /// Total extra bits of the length codes.
    extra_bits: u64,
    matches: u32,
}

/// Token values: 256 literals and the match lengths up to [`MAX_MATCH`], offset by 256.
const TOKEN_VALUES: usize = 256 + MAX_MATCH + 1;

impl Frequencies {
    fn of(tokens: &[Token]) -> Self {
        // Counted per token value first (literals, then match lengths at 256 + len), so
        // a length's symbol and extra bits are looked up once, not once per match.
        let mut per_value = [0u32; TOKEN_VALUES];
        for &t in tokens {
            per_value[usize::from(t)] += 1;
        }
        let mut f = Frequencies { litlen: [0; LITLEN_SYMBOLS], extra_bits: 0, matches: 0 };
        f.litlen[..256].copy_from_slice(&per_value[..256]);
        for len in MIN_MATCH..=MAX_MATCH {
            let n = per_value[256 + len];
            let (sym, _, extra) = length_symbol(len);
            f.litlen[sym] += n;
            f.extra_bits += u64::from(n) * u64::from(extra);
            f.matches += n;
        }
        f.litlen[END_OF_BLOCK] += 1;
        f
    }

    /// Bits of the token stream under `lens` (literal/length) and `dist_len` (code 0).
    fn body_bits(&self, lens: &[u8], dist_len: u8) -> u64 {
        let symbols: u64 = self.litlen.iter().zip(lens).map(|(&f, &l)| u64::from(f) * u64::from(l)).sum();
        symbols + self.extra_bits + u64::from(self.matches) * u64::from(dist_len)
    }
}

/// Canonical Huffman codes: `lens[s]` bits, `codes[s]` already bit-reversed for an
/// LSB-first writer.
struct Code {
    lens: Vec<u8>,
    codes: Vec<u32>,
    dist_len: u8,
    dist_code: u32,
}

impl Code {
    fn from_lens(lens: Vec<u8>, dist_lens: &[u8]) -> Self {
        let codes = canonical_codes(&lens);
        let dist_codes = canonical_codes(dist_lens);
        Code { codes, dist_len: dist_lens[0], dist_code: dist_codes[0], lens }
    }
}

/// The fixed literal/length code lengths of RFC 1951 §3.2.6 (distance codes are 5 bits).
const FIXED_LITLEN_LENS: [u8; 288] = {
    let mut lens = [8u8; 288];
    let mut s = 144;
    while s < 256 {
        lens[s] = 9;
        s += 1;
    }
    while s < 280 {
        lens[s] = 7;
        s += 1;
    }
    lens
};

fn fixed_code() -> Code {
    Code::from_lens(FIXED_LITLEN_LENS.to_vec(), &[5; 30])
}

fn fixed_block_bits(f: &Frequencies) -> u64 {
    3 + f.body_bits(&FIXED_LITLEN_LENS, 5)
}

/// The size of the stream [`deflate_stored`] writes: per block of at most 65,535 bytes,
/// 3 header bits padded to a byte, then LEN and NLEN.
fn stored_bits(n: usize) -> u64 {
    let blocks = n.div_ceil(0xffff).max(1) as u64;
    blocks * 8 * 5 + n as u64 * 8
}

fn write_tokens(w: &mut BitWriter<'_>, tokens: &[Token], code: &Code) {
    // Each token's whole bit string (code, extra bits, distance code: at most
    // 15 + 5 + 5 bits) looked up once per token value instead of composed per token.
    let mut table = [(0u64, 0u32); TOKEN_VALUES];
    for (lit, slot) in table[..256].iter_mut().enumerate() {
        *slot = (u64::from(code.codes[lit]), u32::from(code.lens[lit]));
    }
    for len in MIN_MATCH..=MAX_MATCH {
        let (sym, extra, extra_len) = length_symbol(len);
        let sym_len = u32::from(code.lens[sym]);
        let bits = u64::from(code.codes[sym])
            | u64::from(extra) << sym_len
            | u64::from(code.dist_code) << (sym_len + extra_len);
        table[256 + len] = (bits, sym_len + extra_len + u32::from(code.dist_len));
    }
    for &t in tokens {
        let (bits, count) = table[usize::from(t)];
        w.put(bits, count);
    }
    w.put(u64::from(code.codes[END_OF_BLOCK]), u32::from(code.lens[END_OF_BLOCK]));
}

/// A dynamic block's codes, its header in code-length symbols, and its exact size.
struct DynamicCode {
    code: Code,
    /// `(symbol, extra value)` of the run-length coded code lengths.
    header_symbols: Vec<(u8, u8)>,
    codelen_lens: [u8; CODELEN_SYMBOLS],
    hlit: usize,
    hclen: usize,
    block_bits: u64,
}

impl DynamicCode {
    fn build(f: &Frequencies) -> Self {
        let mut counts = f.litlen;
        // Keep the code complete: a stream with no literal still gets a second symbol.
        if counts.iter().filter(|&&c| c > 0).count() < 2 {
            counts[0] = counts[0].max(1);
        }
        let lens = huffman_lengths(&counts, 15);
        let dist_lens = [1u8, 1];
        let hlit = lens.iter().rposition(|&l| l > 0).map_or(257, |i| (i + 1).max(257));
        let all: Vec<u8> = lens[..hlit].iter().chain(&dist_lens).copied().collect();
        let header_symbols = run_length_code_lengths(&all);
        let mut cl_counts = [0u32; CODELEN_SYMBOLS];
        for &(s, _) in &header_symbols {
            cl_counts[usize::from(s)] += 1;
        }
        if cl_counts.iter().filter(|&&c| c > 0).count() < 2 {
            // A single code-length symbol: pair it with another so the code is complete.
            let other = if cl_counts[0] == 0 { 0 } else { 1 };
            cl_counts[other] += 1;
        }
        let cl = huffman_lengths(&cl_counts, 7);
        let mut codelen_lens = [0u8; CODELEN_SYMBOLS];
        codelen_lens.copy_from_slice(&cl);
        let hclen = CODELEN_ORDER.iter().rposition(|&s| codelen_lens[s] > 0).map_or(4, |i| (i + 1).max(4));
        let header_bits: u64 = header_symbols
            .iter()
            .map(|&(s, _)| u64::from(codelen_lens[usize::from(s)]) + extra_bits_of_codelen(s))
            .sum();
        let block_bits = 3 + 14 + 3 * hclen as u64 + header_bits + f.body_bits(&lens, dist_lens[0]);
        DynamicCode {
            code: Code::from_lens(lens, &dist_lens),
            header_symbols,
            codelen_lens,
            hlit,
            hclen,
            block_bits,
        }
    }

    fn write_header(&self, w: &mut BitWriter<'_>) {
        w.put((self.hlit - 257) as u64, 5);
        w.put((DIST_SYMBOLS - 1) as u64, 5);
        w.put((self.hclen - 4) as u64, 4);
        for &s in &CODELEN_ORDER[..self.hclen] {
            w.put(u64::from(self.codelen_lens[s]), 3);
        }
        let codes = canonical_codes(&self.codelen_lens);
        for &(s, extra) in &self.header_symbols {
            let s = usize::from(s);
            w.put(u64::from(codes[s]), u32::from(self.codelen_lens[s]));
            w.put(u64::from(extra), extra_bits_of_codelen(s as u8) as u32);
        }
    }
}

fn extra_bits_of_codelen(symbol: u8) -> u64 {
    match symbol {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// Code lengths as code-length symbols: 0–15 literally, 16 repeats the previous length
/// 3–6 times, 17 and 18 give 3–10 and 11–138 zeros (RFC 1951 §3.2.7).
fn run_length_code_lengths(lens: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lens.len() {
        let l = lens[i];
        let run = lens[i..].iter().take_while(|&&x| x == l).count();
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let n = left.min(138);
                out.push((18, (n - 11) as u8));
                left -= n;
            }
            if left >= 3 {
                out.push((17, (left - 3) as u8));
                left = 0;
            }
        } else {
            out.push((l, 0));
            left -= 1;
            while left >= 3 {
                let n = left.min(6);
                out.push((16, (n - 3) as u8));
                left -= n;
            }
        }
        out.extend(std::iter::repeat_n((l, 0), left));
        i += run;
    }
    out
}

/// Huffman code lengths for `freqs`, none longer than `limit`; unused symbols get 0.
///
/// Optimal lengths come from the two-queue construction over symbols sorted by
/// frequency; if any exceeds `limit`, the count of codes per length is adjusted as in
/// JPEG (ITU T.81, Annex K.3), which keeps the Kraft sum at exactly one, and the
/// shortest lengths go to the most frequent symbols again.
fn huffman_lengths(freqs: &[u32], limit: u8) -> Vec<u8> {
    let mut lens = vec![0u8; freqs.len()];
    let mut used: Vec<usize> = (0..freqs.len()).filter(|&s| freqs[s] > 0).collect();
    match used.len() {
        0 => return lens,
        1 => {
            lens[used[0]] = 1;
            return lens;
        }
        _ => {}
    }
    used.sort_by_key(|&s| (freqs[s], s));
    let depths = tree_depths(&used.iter().map(|&s| u64::from(freqs[s])).collect::<Vec<_>>());
    let max_depth = depths.iter().copied().max().unwrap_or(0);
    let mut per_len = vec![0usize; max_depth.max(usize::from(limit)) + 1];
    for &d in &depths {
        per_len[d] += 1;
    }
    limit_lengths(&mut per_len, usize::from(limit));
    // Most frequent first: `used` is ascending, so walk it backwards.
    let mut len = 1;
    for &s in used.iter().rev() {
        while per_len[len] == 0 {
            len += 1;
        }
        lens[s] = len as u8;
        per_len[len] -= 1;
    }
    lens
}

/// Leaf depths of a Huffman tree over ascending `weights` (at least two), in their order.
fn tree_depths(weights: &[u64]) -> Vec<usize> {
    let n = weights.len();
    // Nodes 0..n are leaves, n.. are internal nodes in creation order; the two-queue
    // method needs no heap because both queues stay sorted.
    let mut weight: Vec<u64> = weights.to_vec();
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut leaf, mut inner) = (0usize, n);
    for node in n..2 * n - 1 {
        let mut pick = || {
            let take_leaf = leaf < n && (inner >= node || weight[leaf] <= weight[inner]);
            let i = if take_leaf { leaf } else { inner };
            if take_leaf {
                leaf += 1;
            } else {
                inner += 1;
            }
            i
        };
        let (a, b) = (pick(), pick());
        weight.push(weight[a] + weight[b]);
        parent[a] = node;
        parent[b] = node;
    }
    // Parents are created after their children, so one backward pass gives every depth.
    let mut depth = vec![0usize; 2 * n - 1];
    for node in (0..2 * n - 2).rev() {
        depth[node] = depth[parent[node]] + 1;
    }
    depth.truncate(n);
    depth
}

/// Move codes longer than `limit` up to it, keeping the Kraft sum at one (JPEG K.3):
/// two codes at the deepest length become one a level up, and a shorter code splits.
fn limit_lengths(per_len: &mut Vec<usize>, limit: usize) {
    for i in (limit + 1..per_len.len()).rev() {
        while per_len[i] > 0 {
            let mut j = i - 2;
            while per_len[j] == 0 {
                j -= 1;
            }
            per_len[i] -= 2;
            per_len[i - 1] += 1;
            per_len[j + 1] += 2;
            per_len[j] -= 1;
        }
    }
    per_len.truncate(limit + 1);
}

/// Canonical codes for `lens` (RFC 1951 §3.2.2), bit-reversed for LSB-first output.
fn canonical_codes(lens: &[u8]) -> Vec<u32> {
    let mut per_len = [0u32; 16];
    for &l in lens {
        per_len[usize::from(l)] += 1;
    }
    per_len[0] = 0;
    let mut next = [0u32; 16];
    let mut code = 0u32;
    for bits in 1..16 {
        code = (code + per_len[bits - 1]) << 1;
        next[bits] = code;
    }
    lens.iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            c.reverse_bits() >> (32 - u32::from(l))
        })
        .collect()
}

/// An LSB-first bit writer over a byte vector.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl<'a> BitWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Append the low `count` bits of `bits`. `count` ≤ 32: the accumulator holds
    /// fewer than 32 bits between calls, so it never overflows.
    fn put(&mut self, bits: u64, count: u32) {
        self.acc |= bits << self.n;
        self.n += count;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Write the bits still held, padded with zeros to a whole byte.
    fn finish(mut self) {
        while self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress, Status};
    use proptest::prelude::*;

    fn inflate(stream: &[u8], expected_len: usize) -> Vec<u8> {
        let mut d = Decompress::new(false);
        let mut out = Vec::with_capacity(expected_len + 1);
        let status = d.decompress_vec(stream, &mut out, FlushDecompress::Finish).expect("valid deflate");
        assert_eq!(status, Status::StreamEnd);
        assert_eq!(d.total_in() as usize, stream.len(), "no bytes after the final block");
        out
    }

    /// Compress, then inflate with two independent decoders (zlib-rs through flate2,
    /// and miniz_oxide); the browser's own decoder reads real exports in
    /// harness/tests/browser_gzip.rs.
    fn round_trip(payload: &[u8]) -> usize {
        let mut out = Vec::new();
        RunDeflate::new().compress(payload, &mut out);
        assert_eq!(inflate(&out, payload.len()), payload);
        let miniz = miniz_oxide::inflate::decompress_to_vec(&out).expect("miniz_oxide inflates it");
        assert_eq!(miniz, payload);
        out.len()
    }

    #[test]
    fn edge_payloads_round_trip() {
        for p in [&b""[..], b"a", b"ab", b"aaaa", b"\0\0\0\0\0\0\0\0\0\0", b"abcabcabc"] {
            round_trip(p);
        }
        round_trip(&vec![7u8; 1_000_000]);
        round_trip(&(0..300_000u32).map(|i| (i * 2_654_435_761u32 >> 24) as u8).collect::<Vec<_>>());
    }

    #[test]
    fn runs_cost_little_and_random_bytes_are_stored() {
        let sparse: Vec<u8> = (0..20_000).map(|i| if i % 10 == 0 { (i / 10 % 200) as u8 + 1 } else { 0 }).collect();
        assert!(round_trip(&sparse) < 20_000 / 4);
        let noise: Vec<u8> = (0..70_000u64).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8).collect();
        let n = round_trip(&noise);
        assert!(n <= noise.len() + 2 * 5 + 1, "incompressible data is stored: {n}");
    }

    #[test]
    fn lengths_are_limited_and_complete() {
        // Fibonacci frequencies give the deepest possible tree.
        let mut f = vec![1u32, 1];
        while f.len() < 40 {
            let n = f.len();
            f.push(f[n - 1] + f[n - 2]);
        }
        for limit in [7u8, 15] {
            let lens = huffman_lengths(&f, limit);
            assert!(lens.iter().all(|&l| (1..=limit).contains(&l)));
            let kraft: f64 = lens.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
            assert!((kraft - 1.0).abs() < 1e-12, "Kraft sum {kraft}");
        }
    }

    #[test]
    fn length_symbols_match_rfc_1951() {
        assert_eq!(length_symbol(3), (257, 0, 0));
        assert_eq!(length_symbol(10), (264, 0, 0));
        assert_eq!(length_symbol(12), (265, 1, 1));
        assert_eq!(length_symbol(257), (284, 30, 5));
        assert_eq!(length_symbol(258), (285, 0, 0));
    }

    #[test]
    fn run_length_scans_words_and_tails() {
        let mut v = vec![5u8; 40];
        v[19] = 6;
        assert_eq!(run_length(&v, 5, 258), 19);
        assert_eq!(run_length(&v[20..], 5, 258), 20);
        assert_eq!(run_length(&v, 5, 4), 4);
        assert_eq!(run_length(&v, 6, 258), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn any_payload_round_trips(
            runs in prop::collection::vec((any::<u8>(), 1usize..600), 0..60),
            alphabet in 1u8..=255,
        ) {
            let payload: Vec<u8> = runs.iter().flat_map(|&(b, n)| std::iter::repeat_n(b % alphabet, n)).collect();
            round_trip(&payload);
        }
    }
}
