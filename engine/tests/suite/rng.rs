//! The random generator of the property tests: splitmix64, seeded by proptest, so
//! every choice of one generated operation derives from one shrinkable number.

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).expect("a remainder below a usize fits one")
    }

    /// A number in `0..n` as another integer type: the generators' bounds are small,
    /// so it fits.
    pub(crate) fn below_as<T: TryFrom<usize>>(&mut self, n: usize) -> T {
        let k = self.below(n);
        T::try_from(k).unwrap_or_else(|_| panic!("{k} does not fit the type asked for"))
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    /// Up to `max` distinct items (at least one when there are any), in random order.
    pub(crate) fn subset<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let mut pool = items.to_vec();
        let want = 1 + self.below(max.min(pool.len()));
        let mut out = Vec::new();
        while out.len() < want && !pool.is_empty() {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}
