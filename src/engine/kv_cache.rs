//! The KV-cache block pool: capacity, allocation, and the high-water mark.

/// Counts KV blocks; the scheduler asks it before every allocation.
#[derive(Debug, Clone)]
pub(crate) struct BlockPool {
    capacity: u64,
    used: u64,
    peak_used: u64,
    /// Blocks handed out since the start (monotonic), to age freed-but-cached blocks.
    total_allocated: u64,
}

impl BlockPool {
    /// A pool of `capacity` usable blocks.
    pub fn new(capacity: u64) -> BlockPool {
        BlockPool {
            capacity,
            used: 0,
            peak_used: 0,
            total_allocated: 0,
        }
    }

    /// Blocks not held by any request.
    #[inline]
    pub fn free(&self) -> u64 {
        self.capacity - self.used
    }

    /// Takes `n` blocks if they are free; false (and nothing taken) otherwise.
    #[inline]
    pub fn try_allocate(&mut self, n: u64) -> bool {
        if n > self.free() {
            return false;
        }
        self.used += n;
        self.total_allocated += n;
        self.peak_used = self.peak_used.max(self.used);
        true
    }

    /// Returns `n` blocks.
    #[inline]
    pub fn release(&mut self, n: u64) {
        debug_assert!(n <= self.used);
        self.used -= n.min(self.used);
    }

    /// Blocks handed out since the start.
    pub fn total_allocated(&self) -> u64 {
        self.total_allocated
    }

    /// Most blocks ever held at once.
    pub fn peak_used(&self) -> u64 {
        self.peak_used
    }

    /// Usable blocks.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
}
