//! How many deliveries one endpoint may have in flight at once
//! (`TENX_DELIVERY_CONCURRENCY_PER_ENDPOINT`, 8 by default): a semaphore per subscription,
//! created on first use and dropped when nobody holds or awaits it. The overall bound is the
//! consumer's (`workers::local::run_concurrent`, and the event source mapping on Lambda).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct EndpointLimits {
    per_endpoint: usize,
    endpoints: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// One delivery's place at its endpoint; released on drop.
pub struct EndpointPermit<'a> {
    permit: Option<OwnedSemaphorePermit>,
    key: String,
    limits: &'a EndpointLimits,
}

impl EndpointLimits {
    pub fn new(per_endpoint: usize) -> Self {
        Self {
            per_endpoint: per_endpoint.max(1),
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        self.endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place at `endpoint`, waiting at most `wait` for one; `None` when none freed up.
    pub async fn acquire(&self, endpoint: &str, wait: Duration) -> Option<EndpointPermit<'_>> {
        let semaphore = self
            .lock()
            .entry(endpoint.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_endpoint)))
            .clone();
        let acquired = tokio::time::timeout(wait, semaphore.acquire_owned()).await;
        match acquired {
            Ok(Ok(permit)) => Some(EndpointPermit {
                permit: Some(permit),
                key: endpoint.to_owned(),
                limits: self,
            }),
            // Timed out (the semaphore is never closed).
            _ => {
                self.forget_if_unused(endpoint);
                None
            }
        }
    }

    /// Drops the endpoint's semaphore when only the map holds it (no permit, no waiter).
    fn forget_if_unused(&self, endpoint: &str) {
        let mut endpoints = self.lock();
        if endpoints
            .get(endpoint)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            endpoints.remove(endpoint);
        }
    }

    /// Endpoints currently tracked (for tests).
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for EndpointPermit<'_> {
    fn drop(&mut self) {
        // Release first, so the count below sees only the map and any waiters.
        drop(self.permit.take());
        self.limits.forget_if_unused(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_WAIT: Duration = Duration::from_millis(10);

    #[tokio::test]
    async fn each_endpoint_gets_its_own_bound_and_is_forgotten_when_idle() {
        let limits = EndpointLimits::new(2);
        let a1 = limits.acquire("a", NO_WAIT).await.expect("first");
        let a2 = limits.acquire("a", NO_WAIT).await.expect("second");
        assert!(limits.acquire("a", NO_WAIT).await.is_none(), "a is full");
        let b1 = limits.acquire("b", NO_WAIT).await.expect("b has its own");
        assert_eq!(limits.tracked(), 2);
        drop(a1);
        let a3 = limits
            .acquire("a", NO_WAIT)
            .await
            .expect("a place freed up");
        drop((a2, a3, b1));
        assert_eq!(limits.tracked(), 0, "idle endpoints are not kept");
    }

    #[tokio::test]
    async fn a_waiter_gets_the_place_released_while_it_waits() {
        let limits = Arc::new(EndpointLimits::new(1));
        let held = limits.acquire("a", NO_WAIT).await.expect("first");
        let waiter = {
            let limits = limits.clone();
            tokio::spawn(async move { limits.acquire("a", Duration::from_secs(5)).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(limits.tracked(), 1, "kept while someone waits");
        drop(held);
        assert!(waiter.await.unwrap());
        assert_eq!(limits.tracked(), 0);
    }
}
