//! The order-free transition pass: a cycle's pass where the clients' order matters to nothing.
//!
//! Where no capacity limit counts the clients and no recorder hears them, a cycle's pass first keeps
//! the clients who stay, their cell moved on as the table's stay entry says, and sets aside those who
//! move, with their numbers, without a branch; the movers are moved after. With AVX-512 the numbers,
//! the stay test and the setting aside are one sweep over the clients, eight at a time; with AVX2,
//! eight at a time in two fours; otherwise the numbers are drawn first and the clients then sorted
//! one by one. All give the same words in the same order.

use super::cell_of;
use crate::model::{RENEW, Transitions};
use crate::rng::Key;

/// The scratch of order-free passes, reused from cycle to cycle: the movers set aside, and a tally
/// of their moves.
#[derive(Debug, Default)]
pub(super) struct Aside {
    movers: Vec<u64>,
    /// `TALLIES` copies of the `(n + 1) × (n + 1)` moves (or one, for large models), mover `j`
    /// counted in copy `j mod copies`: consecutive movers with the same move do not wait on each
    /// other's count.
    tally: Vec<u32>,
}

/// Copies of the moves tally (see [`Aside::tally`]).
const TALLIES: usize = 4;

impl Aside {
    /// One order-free transition pass over `clients` with the numbers of stream `key`, by the cycle's
    /// table (`tr` with the cycle's `row_of` and `stay` entries; `absorbing` by state): the clients
    /// who stay first, in order, then the movers who are not absorbed, in order. Adds the moves to
    /// `moves` (`(n + 1) × (n + 1)`, renewals in the last column) and to the counts by state.
    pub(super) fn pass(
        &mut self,
        key: Key,
        (tr, row_of, stay, absorbing): (&Transitions, &[u32], &[u64], &[bool]),
        (clients, draws): (&mut Vec<u64>, &mut Vec<u32>),
        count: &mut [u32],
        moves: &mut [u32],
    ) {
        let n = absorbing.len();
        let nn = (n + 1) * (n + 1);
        self.movers.resize(clients.len(), 0);
        draws.resize(clients.len(), 0);
        let (kept, m) = set_movers_aside(key, stay, clients, draws, &mut self.movers);
        clients.truncate(kept);
        if m == 0 {
            return;
        }
        let table = (tr, row_of, absorbing);
        if m < FEW {
            // Few movers: each move counted at once.
            let left = move_all(table, &mut self.movers[..m], draws, |_, s, to| {
                super::record(count, moves, n, s, to);
            });
            clients.extend_from_slice(&self.movers[..left]);
            return;
        }
        // Many: tallied in copies (one for large models, whose copies would cost more to fold).
        let copies = if nn <= 1024 { TALLIES } else { 1 };
        self.tally.resize(TALLIES * nn, 0);
        let tally = &mut self.tally[..copies * nn];
        let left = move_all(table, &mut self.movers[..m], draws, |j, s, to| {
            tally[(j & (copies - 1)) * nn + s * (n + 1) + to] += 1;
        });
        clients.extend_from_slice(&self.movers[..left]);
        fold(tally, n + 1, moves, count);
    }
}

/// Below this many movers in a pass, their moves are counted one by one, not tallied.
const FEW: usize = 64;

/// Moves each of `movers` (with its number in `draws`) by the cycle's table, telling `note` of mover
/// `j`'s move from `s` to `to` (`n`, the number of states, for a renewal); the movers who are not
/// absorbed are left at the front of `movers`, in order: returns how many.
#[inline(always)]
fn move_all(
    table: (&Transitions, &[u32], &[bool]),
    movers: &mut [u64],
    draws: &[u32],
    note: impl FnMut(usize, usize, usize),
) -> usize {
    // `Transitions::pick`, with the kind of rows chosen once rather than for every mover (the two
    // closures index the rows' own picks, `Pick8::pick` and `Row::pick`).
    match table.0.fast() {
        Some(fast) => move_by(table, |r, u| fast[r].pick(u), movers, draws, note),
        None => move_by(
            table,
            |r, u| table.0.rows()[r].pick(u64::from(u)),
            movers,
            draws,
            note,
        ),
    }
}

/// [`move_all`] with the target of row `r` for number `u` given by `pick`.
#[inline(always)]
fn move_by(
    (tr, row_of, absorbing): (&Transitions, &[u32], &[bool]),
    pick: impl Fn(usize, u32) -> u8,
    movers: &mut [u64],
    draws: &[u32],
    mut note: impl FnMut(usize, usize, usize),
) -> usize {
    let n = absorbing.len();
    // Read once, not for every mover: the cells of a state, the state of each cell (as long as
    // `row_of`, so one check covers both), and whether a target keeps the mover (by the target's
    // byte: a renewal keeps it, an absorbing state does not).
    let cell = tr.cells();
    let cell_state = &tr.cell_state()[..row_of.len()];
    let mut keeps = [true; 256];
    for (k, &a) in keeps.iter_mut().zip(absorbing) {
        *k = !a;
    }
    let draws = &draws[..movers.len()];
    let mut left = 0;
    for j in 0..movers.len() {
        let w = movers[j];
        let at = cell_of(w);
        let s = cell_state[at];
        let t = pick(row_of[at] as usize, draws[j]);
        let (to, state) = if t == RENEW {
            (n, s)
        } else {
            (usize::from(t), t)
        };
        note(j, usize::from(s), to);
        // Every mover is written; only those who are not absorbed are counted as left.
        movers[left] = (w & !0xFF_FFFF) | cell(usize::from(state), 1);
        left += usize::from(keeps[usize::from(t)]);
    }
    left
}

/// Adds the moves tallied in `tally` (copies of `n1 × n1` entries) to `moves` and to the counts by
/// state (a renewal, the last column, changes no count), and clears the tally.
fn fold(tally: &mut [u32], n1: usize, moves: &mut [u32], count: &mut [u32]) {
    let (first, rest) = tally.split_at_mut(n1 * n1);
    for copy in rest.chunks_exact_mut(n1 * n1) {
        for (t, c) in first.iter_mut().zip(copy.iter_mut()) {
            *t += std::mem::take(c);
        }
    }
    for (s, row) in first.chunks_exact_mut(n1).enumerate() {
        for (to, k) in row.iter_mut().enumerate() {
            let k = std::mem::take(k);
            if k > 0 {
                moves[s * n1 + to] += k;
                if to + 1 != n1 {
                    count[s] -= k;
                    count[to] += k;
                }
            }
        }
    }
}

/// Keeps the clients who stay (their numbers from `key`, their cell moved on as `stay` says) at the
/// front of `clients`, and copies the words of those who move, and their numbers, to the front of
/// `movers` and `draws` (each at least as long as `clients`). Returns how many stay and how many
/// move.
pub(super) fn set_movers_aside(
    key: Key,
    stay: &[u64],
    clients: &mut [u64],
    draws: &mut [u32],
    movers: &mut [u64],
) -> (usize, usize) {
    let len = clients.len();
    let (draws, movers) = (&mut draws[..len], &mut movers[..len]);
    #[cfg(target_arch = "x86_64")]
    {
        if crate::rng::has_avx512() {
            // SAFETY: the processor has the features the function is compiled for.
            return unsafe { set_aside_avx512(key, stay, clients, draws, movers) };
        }
        if has_avx2() {
            // SAFETY: as above.
            return unsafe { set_aside_avx2(key, stay, clients, draws, movers) };
        }
    }
    key.u32s_at(clients, 24, draws);
    set_aside_from(stay, clients, draws, movers, (0, 0, 0))
}

/// [`set_movers_aside`] one client at a time from client `start`, `kept` and `m` clients already
/// kept and set aside before it, with the numbers of clients `start..` in `draws[start..]`.
#[inline(never)]
fn set_aside_from(
    stay: &[u64],
    clients: &mut [u64],
    draws: &mut [u32],
    movers: &mut [u64],
    (start, mut kept, mut m): (usize, usize, usize),
) -> (usize, usize) {
    for i in start..clients.len() {
        let w = clients[i];
        let u = draws[i];
        let step = stay[cell_of(w)];
        let stays = (u64::from(u) << 1 | 1) < step;
        // Every write happens and the counters say which is kept; `kept` and `m` are at most `i`,
        // so nothing unread is overwritten.
        clients[kept] = w + (step & 1);
        movers[m] = w;
        draws[m] = u;
        kept += usize::from(stays);
        m += usize::from(!stays);
    }
    (kept, m)
}

/// [`set_movers_aside`] with AVX-512, eight clients at a time: their numbers ([`crate::rng::u32s_x8`]),
/// their stay entries (one gather), the test, and the kept and set-aside words packed to the front
/// (compressed) and stored whole. A store of eight from position `kept` or `m` (at most `i`) reaches
/// no further than the eight just loaded, so nothing unread is overwritten. The last few clients, and
/// any whose cell lies outside the table (a bug the scalar code reports), go one by one.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,popcnt")]
fn set_aside_avx512(
    key: Key,
    stay: &[u64],
    clients: &mut [u64],
    draws: &mut [u32],
    movers: &mut [u64],
) -> (usize, usize) {
    use std::arch::x86_64::*;
    let len = clients.len();
    assert!(draws.len() == len && movers.len() == len);
    let kv = _mm512_set1_epi64(key.0 as i64);
    let one = _mm512_set1_epi64(1);
    let cell_bits = _mm512_set1_epi64(0xFF_FFFF);
    let cells = _mm512_set1_epi64(stay.len() as i64);
    let (mut i, mut kept, mut m) = (0, 0, 0);
    while i + 8 <= len {
        // SAFETY: `i + 8 <= len`; `kept`, `m` <= `i`, so every access is within the slices, and the
        // gather reads only cells below `stay.len()` (checked just before).
        unsafe {
            let w = _mm512_loadu_si512(clients.as_ptr().add(i).cast());
            let cell = _mm512_and_si512(w, cell_bits);
            if _mm512_cmpge_epu64_mask(cell, cells) != 0 {
                break;
            }
            let u = crate::rng::u32s_x8(kv, _mm512_srli_epi64::<24>(w));
            let step = _mm512_i64gather_epi64::<8>(cell, stay.as_ptr().cast());
            let stays =
                _mm512_cmplt_epu64_mask(_mm512_or_si512(_mm512_slli_epi64::<1>(u), one), step);
            let moves = !stays;
            let next = _mm512_add_epi64(w, _mm512_and_si512(step, one));
            _mm512_storeu_si512(
                clients.as_mut_ptr().add(kept).cast(),
                _mm512_maskz_compress_epi64(stays, next),
            );
            _mm512_storeu_si512(
                movers.as_mut_ptr().add(m).cast(),
                _mm512_maskz_compress_epi64(moves, w),
            );
            _mm256_storeu_si256(
                draws.as_mut_ptr().add(m).cast(),
                _mm256_maskz_compress_epi32(moves, _mm512_cvtepi64_epi32(u)),
            );
            let k = stays.count_ones() as usize;
            kept += k;
            m += 8 - k;
        }
        i += 8;
    }
    key.u32s_at(&clients[i..], 24, &mut draws[i..]);
    set_aside_from(stay, clients, draws, movers, (i, kept, m))
}

/// Whether the processor has what [`set_aside_avx2`] is compiled for.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
}

/// How [`set_aside_avx2`] packs four clients for a mask of those who stay: 32-bit indices (for
/// `_mm256_permutevar8x32_epi32`) that bring to the front, in order, the 64-bit lanes of those who
/// stay (`kept`), the 64-bit lanes of those who move (`moves`), and the high halves of the movers'
/// lanes (`draws`, in the first four places).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Pack {
    kept: [i32; 8],
    moves: [i32; 8],
    draws: [i32; 8],
}

/// The [`Pack`] of every mask of four lanes.
#[cfg(target_arch = "x86_64")]
const fn packs() -> [Pack; 16] {
    let mut table = [Pack {
        kept: [0; 8],
        moves: [0; 8],
        draws: [0; 8],
    }; 16];
    let mut mask = 0;
    while mask < 16 {
        let t = &mut table[mask];
        let (mut lane, mut k, mut m): (i32, usize, usize) = (0, 0, 0);
        while lane < 4 {
            if mask & (1 << lane) != 0 {
                t.kept[2 * k] = 2 * lane;
                t.kept[2 * k + 1] = 2 * lane + 1;
                k += 1;
            } else {
                t.moves[2 * m] = 2 * lane;
                t.moves[2 * m + 1] = 2 * lane + 1;
                t.draws[m] = 2 * lane + 1;
                m += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
}

#[cfg(target_arch = "x86_64")]
static PACKS: [Pack; 16] = packs();

/// How many fours of clients [`set_aside_avx2`] takes in one step. The compiler vectorised the
/// earlier "four more one by one" as well, so one four in vectors and four more (criterion's
/// plain-Markov median 466-528 M client-cycles a second on an AVX2 processor without AVX-512) was
/// two fours in all but name; written as two fours, the sweep has a quarter fewer instructions
/// (callgrind, `profile_engine markov 100`: 153 M to 116 M), and in interleaved runs of
/// `profile_engine markov` it was as fast or faster (median ratio 1.00-1.05); three fours were no
/// faster than two.
#[cfg(target_arch = "x86_64")]
const FOURS: usize = 2;

/// [`set_movers_aside`] with AVX2, [`FOURS`] fours of clients at a time, each four as
/// [`set_aside_avx512`] does its eight: the whole numbers ([`crate::rng::at_x4`]), the stay entries,
/// the test, and the kept and set-aside words packed to the front by a permutation from a table and
/// stored whole. The test needs no unsigned comparison: `2u + 1` (the number's high half, doubled,
/// plus one: the whole number shifted right by 31, with its lowest bit set) is below `2^33` and a
/// stay entry below `2^34`, so both are positive as signed numbers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
fn set_aside_avx2(
    key: Key,
    stay: &[u64],
    clients: &mut [u64],
    draws: &mut [u32],
    movers: &mut [u64],
) -> (usize, usize) {
    use std::arch::x86_64::*;
    let len = clients.len();
    assert!(draws.len() == len && movers.len() == len);
    let kv = _mm256_set1_epi64x(key.0 as i64);
    let one = _mm256_set1_epi64x(1);
    let cell_bits = _mm256_set1_epi64x(0xFF_FFFF);
    // Cells are below 2^24, so a signed comparison with the table's length is exact.
    let cells = _mm256_set1_epi64x(stay.len().min(1 << 24) as i64);
    let (mut i, mut kept, mut m) = (0, 0, 0);
    while i + 4 * FOURS <= len {
        // SAFETY: `i + 4 * FOURS <= len`; `kept`, `m` <= `i`, so every access is within the
        // slices, and the loads of `stay` read only cells below `stay.len()` (checked just before);
        // a mask of four lanes is below 16, the rows of `PACKS`, whose entries are below 8. All the
        // block's clients are read before any is stored, and the `f`-th four are stored from
        // places no further than `i + 4 f`, so reach no further than their own.
        unsafe {
            let mut w = [_mm256_setzero_si256(); FOURS];
            let mut bad = 0;
            for (f, w) in w.iter_mut().enumerate() {
                *w = _mm256_loadu_si256(clients.as_ptr().add(i + 4 * f).cast());
                let cell = _mm256_and_si256(*w, cell_bits);
                bad |= _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(cells, cell)))
                    ^ 0b1111;
            }
            if bad != 0 {
                break;
            }
            for w in w {
                let cell = _mm256_and_si256(w, cell_bits);
                let x = crate::rng::at_x4(kv, _mm256_srli_epi64::<24>(w));
                // Four loads: quicker than a gather on processors whose gathers are slow.
                let step = _mm256_set_epi64x(
                    *stay.get_unchecked(_mm256_extract_epi64::<3>(cell) as usize) as i64,
                    *stay.get_unchecked(_mm256_extract_epi64::<2>(cell) as usize) as i64,
                    *stay.get_unchecked(_mm256_extract_epi64::<1>(cell) as usize) as i64,
                    *stay.get_unchecked(_mm256_extract_epi64::<0>(cell) as usize) as i64,
                );
                let test = _mm256_or_si256(_mm256_srli_epi64::<31>(x), one);
                let stays = _mm256_cmpgt_epi64(step, test);
                let stays = _mm256_movemask_pd(_mm256_castsi256_pd(stays)) as usize;
                let next = _mm256_add_epi64(w, _mm256_and_si256(step, one));
                let pack = PACKS.get_unchecked(stays);
                let at = |t: &[i32; 8]| _mm256_load_si256(t.as_ptr().cast());
                _mm256_storeu_si256(
                    clients.as_mut_ptr().add(kept).cast(),
                    _mm256_permutevar8x32_epi32(next, at(&pack.kept)),
                );
                _mm256_storeu_si256(
                    movers.as_mut_ptr().add(m).cast(),
                    _mm256_permutevar8x32_epi32(w, at(&pack.moves)),
                );
                _mm_storeu_si128(
                    draws.as_mut_ptr().add(m).cast(),
                    _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x, at(&pack.draws))),
                );
                let k = stays.count_ones() as usize;
                kept += k;
                m += 4 - k;
            }
        }
        i += 4 * FOURS;
    }
    key.u32s_at(&clients[i..], 24, &mut draws[i..]);
    set_aside_from(stay, clients, draws, movers, (i, kept, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way to set the movers aside.
    #[derive(Clone, Copy)]
    enum Way {
        /// As the processor chooses (AVX-512, AVX2 or one by one).
        Dispatched,
        #[cfg(target_arch = "x86_64")]
        Avx2,
        OneByOne,
    }

    /// The pass the processor chooses and the AVX2 pass (where the processor has it) set aside the
    /// same clients, in the same order, with the same numbers, as the one-by-one pass, for every
    /// length around their blocks of eight.
    #[test]
    fn every_way_sets_the_same_clients_aside() {
        let key = Key::root(7).child(3);
        // Cells 0..6 with stay entries from "never stays" to "always stays" (`below` 2^32, the
        // largest a table holds), some moving on.
        let stay: Vec<u64> = vec![
            0,
            1,
            2 << 31,
            (2 << 31) | 1,
            1 << 33,
            (1 << 33) | 1,
            3 << 30,
        ];
        for len in 0..40 {
            let clients: Vec<u64> = (0..len as u64)
                .map(|i| (i * 977 + 13) << 24 | (i * 5 % stay.len() as u64))
                .collect();
            let run = |way: Way| {
                let mut c = clients.clone();
                let (mut d, mut mv) = (vec![0u32; len], vec![0u64; len]);
                let (k, m) = match way {
                    Way::Dispatched => set_movers_aside(key, &stay, &mut c, &mut d, &mut mv),
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: only asked for where the processor has AVX2 and POPCNT (below).
                    Way::Avx2 => unsafe { set_aside_avx2(key, &stay, &mut c, &mut d, &mut mv) },
                    Way::OneByOne => {
                        key.u32s_at(&clients, 24, &mut d);
                        set_aside_from(&stay, &mut c, &mut d, &mut mv, (0, 0, 0))
                    }
                };
                (c[..k].to_vec(), mv[..m].to_vec(), d[..m].to_vec())
            };
            let (kept, movers, draws) = run(Way::OneByOne);
            let want = (kept.clone(), movers.clone(), draws.clone());
            assert_eq!(run(Way::Dispatched), want, "{len} clients");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                assert_eq!(run(Way::Avx2), want, "{len} clients, AVX2");
            }
            assert_eq!(kept.len() + movers.len(), len);
            // The one-by-one pass itself: a client stays exactly when its number is below its
            // threshold, and a mover's number is its own.
            for (&w, &u) in movers.iter().zip(&draws) {
                assert_eq!(u, key.u32_at(w >> 24));
                assert!(2 * u64::from(u) + 1 >= stay[cell_of(w)]);
            }
        }
    }
}
