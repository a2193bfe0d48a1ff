//! What one row came to, and a written row's marker read back (a resumed chunk's answer).

use crate::platform::store::{Item, StoreError};

use super::model::{RowError, RowOutcome};

/// What one row came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    Created,
    Updated,
    Skipped,
    Failed(RowError),
}

pub(crate) fn outcome_of(marker: &Item) -> Result<Outcome, StoreError> {
    #[derive(serde::Deserialize)]
    struct Marker {
        outcome: RowOutcome,
    }
    Ok(match marker.parse::<Marker>()?.outcome {
        RowOutcome::Created => Outcome::Created,
        RowOutcome::Updated => Outcome::Updated,
    })
}
