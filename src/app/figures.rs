//! Report figures, computed once for each period, organisation filter and
//! version of the data, and shared: 64 people opening the dashboard at once
//! wait for one computation instead of running 64 (each reads every
//! attendance of the period twice over). A write to anything the figures
//! count changes the data version ([`crate::db::statistics::data_version`]),
//! so the next request computes afresh: the cache never serves figures of
//! older data than the request found.

use crate::domain::report::{Period, Report};
use rocket::tokio::sync::OnceCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

/// Which figures: the period, the organisation (0 for the partnership), the
/// data version they were computed from, and whether they are the report
/// (compared with the period before) or one period's figures alone. A
/// report is made of two periods' figures; kept apart, the period a report
/// compares with is computed once for it and for the report of that period
/// (FY 2024/25 opened after FY 2025/26 has half its work done).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiguresKey {
    pub period: Period,
    pub organisation_id: i64,
    pub data_version: (i64, i64),
    pub compared: bool,
}

/// Filled once by whichever request comes first; the others wait on it.
type Slot = Arc<OnceCell<Arc<Report>>>;

/// A bounded set of computed reports, oldest dropped first.
pub struct FiguresCache {
    capacity: usize,
    slots: Mutex<VecDeque<(FiguresKey, Slot)>>,
}

/// Periods people look at: each preset for the current data, and a few chosen
/// dates, for the partnership and some organisations; each report with its
/// two periods' figures. A report is tens of kilobytes.
const CAPACITY: usize = 128;

impl Default for FiguresCache {
    fn default() -> Self {
        FiguresCache::with_capacity(CAPACITY)
    }
}

impl FiguresCache {
    pub fn with_capacity(capacity: usize) -> Self {
        FiguresCache {
            capacity: capacity.max(1),
            slots: Mutex::new(VecDeque::new()),
        }
    }

    /// The report for `key`, computed by `compute` unless it already was or
    /// is being computed. When the computation fails, the error goes to its
    /// caller and a waiting request tries again.
    pub async fn get_or_compute<F, Fut, E>(&self, key: FiguresKey, compute: F) -> Result<Arc<Report>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Report, E>>,
    {
        let slot = self.slot(key);
        slot.get_or_try_init(move || async move { compute().await.map(Arc::new) })
            .await
            .cloned()
    }

    fn slot(&self, key: FiguresKey) -> Slot {
        // A panic elsewhere while the lock was held leaves the list intact.
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, slot)) = slots.iter().find(|(k, _)| *k == key) {
            return slot.clone();
        }
        // Figures of older data are never asked for again.
        slots.retain(|(k, _)| k.data_version >= key.data_version);
        while slots.len() >= self.capacity {
            slots.pop_front();
        }
        let slot = Slot::default();
        slots.push_back((key, slot.clone()));
        slot
    }

    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(version: i64, organisation_id: i64) -> FiguresKey {
        let day = |d| NaiveDate::from_ymd_opt(2025, 4, d).expect("test date");
        FiguresKey {
            period: Period::new(day(1), day(30)).expect("period"),
            organisation_id,
            data_version: (version, 1),
            compared: true,
        }
    }

    fn report(key: FiguresKey) -> Report {
        Report {
            title: format!("version {}", key.data_version.0),
            period: key.period,
            previous_period: key.period.previous(),
            organisation: None,
            sections: Vec::new(),
        }
    }

    /// The figures for `key` from the cache, computed there if they are not yet.
    async fn figures(cache: &FiguresCache, key: FiguresKey) -> Arc<Report> {
        cache
            .get_or_compute(key, || async move { Ok::<_, ()>(report(key)) })
            .await
            .expect("figures")
    }

    #[rocket::async_test]
    async fn concurrent_requests_for_the_same_figures_compute_them_once() {
        let cache = Arc::new(FiguresCache::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for _ in 0..16 {
            let (cache, computed) = (cache.clone(), computed.clone());
            waiting.push(rocket::tokio::spawn(async move {
                cache
                    .get_or_compute(key(7, 0), || async {
                        computed.fetch_add(1, Ordering::SeqCst);
                        rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok::<_, ()>(report(key(7, 0)))
                    })
                    .await
            }));
        }
        for task in waiting {
            let got = task.await.expect("task").expect("figures");
            assert_eq!(got.title, "version 7");
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
    }

    #[rocket::async_test]
    async fn new_data_is_computed_afresh_and_older_figures_are_dropped() {
        let cache = FiguresCache::default();
        for organisation in [0, 1, 2] {
            figures(&cache, key(1, organisation)).await;
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(figures(&cache, key(2, 0)).await.title, "version 2");
        assert_eq!(cache.len(), 1);
    }

    #[rocket::async_test]
    async fn a_failed_computation_is_not_kept() {
        let cache = FiguresCache::default();
        let failed = cache
            .get_or_compute(key(1, 0), || async { Err::<Report, _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        let got = cache
            .get_or_compute(key(1, 0), || async { Ok::<_, &str>(report(key(1, 0))) })
            .await
            .expect("figures");
        assert_eq!(got.title, "version 1");
    }

    #[rocket::async_test]
    async fn the_cache_holds_at_most_its_capacity() {
        let cache = FiguresCache::with_capacity(2);
        for organisation in 0..5 {
            figures(&cache, key(1, organisation)).await;
        }
        assert_eq!(cache.len(), 2);
    }
}
