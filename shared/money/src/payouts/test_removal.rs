//! A test payout removed (test mode's clearing, `test_books::clear`): its pointers, its pages
//! of line ids, its staging, its partner's test chain head, then the payout itself.

use std::ops::ControlFlow;

use crate::domain::Handle;
use crate::payouts::model::{Payout, PayoutStatus};
use crate::platform::store::{Cond, Query, Store, StoreError, WriteOp, for_each_item, keys};

/// One test payout out: its pointers, its pages of line ids and its staging, then the payout
/// itself at the version read, last, so a clearing cut halfway finds it again and one of two at
/// once removes it. Answers whether this call removed it.
pub async fn remove(store: &dyn Store, handle: &Handle, p: &Payout) -> Result<bool, StoreError> {
    let mut ops = vec![WriteOp::Delete {
        pk: keys::payouts_of_partner_pk(handle, &p.partner_id),
        sk: p.payout_id.to_string(),
        cond: Cond::None,
    }];
    if matches!(p.status, PayoutStatus::Pending | PayoutStatus::Sending) {
        ops.push(WriteOp::Delete {
            pk: keys::payouts_pending_pk(handle),
            sk: p.payout_id.to_string(),
            cond: Cond::None,
        });
    }
    let (head_pk, head_sk) = keys::test_payout_head(handle, &p.partner_id);
    ops.push(WriteOp::Delete {
        pk: head_pk,
        sk: head_sk,
        cond: Cond::None,
    });
    for pk in [
        keys::payout_lines_pk(handle, &p.payout_id),
        keys::payout_stage_pk(handle, &p.payout_id),
    ] {
        for_each_item(store, Query::all(pk.clone()), |item| {
            ops.push(WriteOp::Delete {
                pk: pk.clone(),
                sk: item.sk.clone(),
                cond: Cond::None,
            });
            Ok::<_, StoreError>(ControlFlow::Continue(()))
        })
        .await?;
    }
    // Deletes are idempotent: written in chunks a transaction takes, a stop halfway is redone.
    for chunk in ops.chunks(25) {
        store.transact(chunk.to_vec()).await?;
    }
    let payout = WriteOp::Delete {
        pk: keys::payouts_pk(handle),
        sk: p.payout_id.to_string(),
        cond: Cond::Version(p.version),
    };
    match store.write(payout).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
