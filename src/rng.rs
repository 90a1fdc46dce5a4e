//! Keyed random numbers.
//!
//! Every random number in wijksim is addressed by *what it is for*: the master seed, the run, the area,
//! the cycle, the purpose and the client. Nothing depends on the order in which threads draw, so results
//! are identical whatever the thread count, and two arms that put a client in the same situation give it
//! the same numbers (common random numbers).
//!
//! The algorithm is fixed and part of the output contract (a change is a change of results):
//! * a *stream key* is built by folding each index into a 64-bit state with the SplitMix64 finaliser
//!   ([`mix64`]): `key = mix64(mix64(...mix64(seed ^ C0) ^ a)... ^ b)`;
//! * the `i`-th number of a stream is `mix64(key + (i + 1) * γ)` with `γ = 0x9E3779B97F4A7C15`, i.e. the
//!   `i`-th output of a SplitMix64 generator started at `key` (Steele, Lea & Flood 2014), which passes
//!   BigCrush.
//!
//! [`Stream`] wraps a key as an ordinary sequential generator (implementing [`rand::RngCore`]) for the
//! few places that need several numbers at one address (a Poisson draw, say).

/// The golden-ratio increment of SplitMix64.
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (a bijective 64-bit mixer).
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a random number is used for; part of every key so that streams for different purposes never
/// coincide, and adding a new purpose never changes the numbers of an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial time in state of the starting caseload.
    InitialTime = 1,
    /// Number of new clients per area and cycle.
    InflowCount = 2,
    /// Entry state of a new client.
    EntryState = 3,
    /// The monthly transition of a client.
    Transition = 4,
    /// Whether a new client in a budget area is handled by the sociale basis (prevention).
    Prevention = 5,
    /// A parameter drawn from its distribution (probabilistic sensitivity analysis).
    Parameter = 6,
    /// The points of a sweep design (Latin hypercube).
    Design = 7,
    /// The draws of a calibration's posterior (sampling-importance resampling).
    Calibration = 8,
}

/// A stream key: the address of a family of random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub u64);

impl Key {
    /// The root key of a master seed.
    pub fn root(seed: u64) -> Key {
        Key(mix64(seed ^ 0x7769_6A6B_7369_6D31)) // "wijksim1"
    }

    /// A child key: this key refined by one more index.
    #[inline]
    pub fn child(self, index: u64) -> Key {
        Key(mix64(self.0 ^ mix64(index.wrapping_add(GAMMA))))
    }

    /// The key of a purpose under this key.
    #[inline]
    pub fn purpose(self, p: Purpose) -> Key {
        self.child(p as u64)
    }

    /// The `i`-th 64-bit number of this key's stream.
    #[inline(always)]
    pub fn at(self, i: u64) -> u64 {
        mix64(self.0.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA)))
    }

    /// The `i`-th number of this stream as a uniform `u32` (its high half).
    #[inline(always)]
    pub fn u32_at(self, i: u64) -> u32 {
        (self.at(i) >> 32) as u32
    }

    /// Number `words[i] >> shift` of this stream as a uniform `u32`, for every `i`, into `out[i]`
    /// (exactly [`Key::u32_at`]; many at once, vectorised where the processor allows).
    pub fn u32s_at(self, words: &[u64], shift: u32, out: &mut [u32]) {
        assert_eq!(words.len(), out.len(), "one number per word");
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx512() {
                // SAFETY: the processor has the features the function is compiled for.
                return unsafe { u32s_avx512(self.0, words, shift, out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { u32s_avx2(self.0, words, shift, out) };
            }
        }
        u32s(self.0, words, shift, out);
    }

    /// A sequential generator over this key's stream.
    pub fn stream(self) -> Stream {
        Stream { key: self, i: 0 }
    }
}

/// Whether the processor has the AVX-512 parts wijksim's vector code is compiled for (F, DQ, VL;
/// and POPCNT, which every processor with them has).
#[cfg(target_arch = "x86_64")]
pub fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("popcnt")
}

/// [`Key::u32s_at`] as plain code: each number independent of the others, so the compiler
/// vectorises it for the instruction set of the function it is inlined into.
#[inline(always)]
fn u32s(key: u64, words: &[u64], shift: u32, out: &mut [u32]) {
    for (u, &w) in out.iter_mut().zip(words) {
        let i = w >> shift;
        *u = (mix64(key.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA))) >> 32) as u32;
    }
}

/// [`u32s`] with AVX-512 (8 lanes, a 64-bit multiply in one instruction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn u32s_avx512(key: u64, words: &[u64], shift: u32, out: &mut [u32]) {
    u32s(key, words, shift, out);
}

/// [`u32s`] with AVX2 (4 lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn u32s_avx2(key: u64, words: &[u64], shift: u32, out: &mut [u32]) {
    u32s(key, words, shift, out);
}

/// Numbers `index` of stream `key` (each lane a 64-bit index, the key in every lane) as uniform
/// `u32`s, one in the low half of each 64-bit lane: exactly [`Key::u32_at`], eight at a time, for
/// AVX-512 code that goes on to use them in registers.
///
/// # Safety
/// The processor must have AVX-512 F and DQ.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
pub unsafe fn u32s_x8(
    key: std::arch::x86_64::__m512i,
    index: std::arch::x86_64::__m512i,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::*;
    let i1 = _mm512_add_epi64(index, _mm512_set1_epi64(1));
    let mut z = _mm512_add_epi64(key, _mm512_mullo_epi64(i1, _mm512_set1_epi64(GAMMA as i64)));
    z = _mm512_xor_si512(z, _mm512_srli_epi64::<30>(z));
    z = _mm512_mullo_epi64(z, _mm512_set1_epi64(0xBF58_476D_1CE4_E5B9_u64 as i64));
    z = _mm512_xor_si512(z, _mm512_srli_epi64::<27>(z));
    z = _mm512_mullo_epi64(z, _mm512_set1_epi64(0x94D0_49BB_1331_11EB_u64 as i64));
    z = _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z));
    _mm512_srli_epi64::<32>(z)
}

/// `a * c` in each 64-bit lane (the low 64 bits), with AVX2's 32-bit multiplies.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
fn mullo_x4(a: std::arch::x86_64::__m256i, c: u64) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let lo = _mm256_set1_epi64x(c as i64);
    let hi = _mm256_set1_epi64x((c >> 32) as i64);
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), lo),
        _mm256_mul_epu32(a, hi),
    );
    _mm256_add_epi64(_mm256_mul_epu32(a, lo), _mm256_slli_epi64::<32>(cross))
}

/// With AVX2, four at a time: numbers `index` of stream `key`, whole, one in each 64-bit lane;
/// exactly [`Key::at`] (the high halves are [`Key::u32_at`]).
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
pub unsafe fn at_x4(
    key: std::arch::x86_64::__m256i,
    index: std::arch::x86_64::__m256i,
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    // `key + (index + 1) γ` as `(key + γ) + index γ`: the first sum is the same for every number.
    let first = _mm256_add_epi64(key, _mm256_set1_epi64x(GAMMA as i64));
    let mut z = _mm256_add_epi64(first, mullo_x4(index, GAMMA));
    z = _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z));
    z = mullo_x4(z, 0xBF58_476D_1CE4_E5B9);
    z = _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z));
    z = mullo_x4(z, 0x94D0_49BB_1331_11EB);
    _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
}

/// A sequential view of a keyed stream; implements [`rand::RngCore`].
#[derive(Debug, Clone)]
pub struct Stream {
    key: Key,
    i: u64,
}

impl Stream {
    /// A uniform number in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn next(&mut self) -> u64 {
        let v = self.key.at(self.i);
        self.i += 1;
        v
    }

    /// A uniform integer in `[lo, hi]` (inclusive), by Lemire's multiply-shift with rejection: a
    /// number is rejected when the low half of its product with the range is below `2^64 mod range`.
    /// That bound is below the range, so it is computed (a division) only when the low half is.
    pub fn int_in(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        let range = u64::from(hi - lo) + 1;
        let mut zone = None;
        loop {
            let x = self.next();
            let m = u128::from(x) * u128::from(range);
            let low = m as u64;
            if low >= range || low >= *zone.get_or_insert_with(|| range.wrapping_neg() % range) {
                return lo + (m >> 64) as u32;
            }
        }
    }
}

impl rand::RngCore for Stream {
    fn next_u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Draws a Poisson variate with mean `lambda` from `stream` by inversion (sequential search), splitting
/// large means into pieces of at most 500 so that `exp(-lambda)` never underflows. Exact and stable
/// across versions, and fast for the small per-area monthly means of Wmo inflow.
pub fn poisson(stream: &mut Stream, lambda: f64) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    let pieces = (lambda / 500.0).ceil().max(1.0);
    let piece = lambda / pieces;
    let mut total = 0u32;
    for _ in 0..pieces as u32 {
        let mut k = 0u32;
        let mut p = (-piece).exp();
        let mut cdf = p;
        let u = stream.uniform();
        while u >= cdf && p > 0.0 {
            k += 1;
            p *= piece / f64::from(k);
            cdf += p;
        }
        total += k;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stability() {
        // Pins the first numbers for a seed: a change here changes every result of every user.
        let k = Key::root(42).child(0).purpose(Purpose::Transition);
        let got: Vec<u64> = (0..3).map(|i| k.at(i)).collect();
        assert_eq!(got, PINNED.to_vec(), "keyed stream changed: got {got:#x?}");
    }
    const PINNED: [u64; 3] = [
        0xe1fa_75da_e001_6825,
        0x9513_d0a3_b78c_3f9e,
        0x1abd_d4d4_2112_832b,
    ];

    #[test]
    fn matches_reference_splitmix64() {
        // SplitMix64 seeded with 0: the published first outputs (as in Vigna's splitmix64.c).
        let k = Key(0);
        assert_eq!(k.at(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(k.at(1), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn uniform_mean_and_int_range() {
        let mut s = Key::root(7).stream();
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| s.uniform()).sum::<f64>() / n as f64;
        // sd of the mean = sqrt(1/12/n) ~ 6.5e-4; 4 standard errors
        assert!(
            (mean - 0.5).abs() < 4.0 * (1.0f64 / 12.0 / n as f64).sqrt(),
            "{mean}"
        );
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let v = s.int_in(5, 7);
            counts[(v - 5) as usize] += 1;
        }
        for c in counts {
            // expected 10,000, sd ~ 81.6
            assert!((f64::from(c) - 10_000.0).abs() < 4.0 * 81.65, "{counts:?}");
        }
        assert_eq!(s.int_in(3, 3), 3);
    }

    /// `int_in` draws what Lemire's rule with its bound computed first draws, number for number and
    /// taking the same numbers of the stream, over ranges from one value to `2^32` (a number is
    /// rejected with a chance below `2^-32`, so no rejection is seen here: that the late bound
    /// rejects the same numbers follows from the bound being below the range).
    #[test]
    fn int_in_keeps_every_number_of_the_rule() {
        let reference = |s: &mut Stream, lo: u32, hi: u32| {
            let range = u64::from(hi - lo) + 1;
            let zone = (u64::MAX - range + 1) % range;
            loop {
                let m = u128::from(s.next()) * u128::from(range);
                if (m as u64) >= zone {
                    return lo + (m >> 64) as u32;
                }
            }
        };
        let ranges = [
            (0, 0),
            (5, 7),
            (0, 1),
            (1, 120),
            (0, (1 << 31) - 1),
            (0, (1 << 31) + 12_345),
            (0, u32::MAX - 3),
            (0, u32::MAX),
        ];
        for (i, &(lo, hi)) in ranges.iter().enumerate() {
            let (mut a, mut b) = (
                Key::root(9).child(i as u64).stream(),
                Key::root(9).child(i as u64).stream(),
            );
            for _ in 0..20_000 {
                assert_eq!(a.int_in(lo, hi), reference(&mut b, lo, hi), "[{lo}, {hi}]");
            }
            // Both took the same numbers of the stream, rejected ones included.
            assert_eq!(a.i, b.i, "[{lo}, {hi}]");
        }
    }

    #[test]
    fn poisson_moments() {
        for &lambda in &[0.3, 4.0, 1200.0] {
            let mut s = Key::root(11).child(lambda as u64).stream();
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| f64::from(poisson(&mut s, lambda))).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (lambda / n as f64).sqrt();
            assert!(
                (mean - lambda).abs() < 4.0 * se,
                "lambda {lambda}: mean {mean}"
            );
            assert!(
                (var / lambda - 1.0).abs() < 0.06,
                "lambda {lambda}: var {var}"
            );
        }
        let mut s = Key::root(1).stream();
        assert_eq!(poisson(&mut s, 0.0), 0);
    }

    #[test]
    fn many_numbers_at_once_are_the_numbers_one_at_a_time() {
        // Every path (the processor's vector instructions and plain code) gives Key::u32_at.
        let key = Key::root(3).child(17).purpose(Purpose::Transition);
        let words: Vec<u64> = (0..1_003u64)
            .map(|j| (j * 7_919 + (j << 40)) << 24 | (j & 0xFF_FFFF))
            .chain([0, u64::MAX, u64::MAX >> 24 << 24])
            .collect();
        let want: Vec<u32> = words.iter().map(|&w| key.u32_at(w >> 24)).collect();
        let mut got = vec![0; words.len()];
        key.u32s_at(&words, 24, &mut got);
        assert_eq!(got, want);
        let mut plain = vec![0; words.len()];
        u32s(key.0, &words, 24, &mut plain);
        assert_eq!(plain, want);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = vec![0; words.len()];
            // SAFETY: the processor has AVX2.
            unsafe { u32s_avx2(key.0, &words, 24, &mut avx2) };
            assert_eq!(avx2, want);
            // The whole numbers, four at a time, as the order-free pass draws them.
            use std::arch::x86_64::*;
            for four in words.chunks_exact(4) {
                let mut lanes = [0u64; 4];
                // SAFETY: the processor has AVX2; `lanes` holds four 64-bit numbers.
                unsafe {
                    let index = _mm256_loadu_si256(four.as_ptr().cast());
                    let kv = _mm256_set1_epi64x(key.0 as i64);
                    let x = at_x4(kv, _mm256_srli_epi64::<24>(index));
                    _mm256_storeu_si256(lanes.as_mut_ptr().cast(), x);
                }
                let want: Vec<u64> = four.iter().map(|&w| key.at(w >> 24)).collect();
                assert_eq!(lanes.to_vec(), want, "words {four:x?}");
            }
        }
    }

    #[test]
    fn distinct_indices_give_distinct_streams() {
        let r = Key::root(1);
        assert_ne!(r.child(0).at(0), r.child(1).at(0));
        assert_ne!(
            r.purpose(Purpose::Transition).at(0),
            r.purpose(Purpose::EntryState).at(0)
        );
        assert_ne!(Key::root(1).at(0), Key::root(2).at(0));
    }
}
