//! Analytics routes: the per-campaign funnel (`funnel=true`, the default), breakdowns
//! (`groupBy=`), and the export of either as CSV or JSON.

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::analytics::days::DayRange;
use crate::analytics::export;
use crate::analytics::report::{self, FunnelReport, GroupBy, GroupReport, Scope};
use crate::campaigns;
use crate::domain::PartnerId;
use crate::http::auth::Caller;
use crate::http::campaigns::parse_campaign_id;
use crate::http::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::Query;
use crate::kernel::state::AppState;

/// The analytics routes, each with its access rule.
pub(crate) fn routes() -> Routes {
    use crate::http::auth::Role::Viewer;
    use crate::http::auth::Scope::AnalyticsRead;
    use crate::http::routes::Charge::Free;
    Routes::new()
        .at("/v2/handles/{handle}/analytics")
        .get(Viewer, Some(AnalyticsRead), Free, analytics)
        .at("/v2/handles/{handle}/analytics/export")
        .get(Viewer, Some(AnalyticsRead), Free, export_report)
}

/// The query of both routes: `orphans` only on the report, `format` only on the export.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReportParams {
    funnel: Option<String>,
    /// `true`: the orphan visits (unknown slugs, the bare domain) instead of a link report.
    orphans: Option<String>,
    /// Export only: `csv` (default) or `json`.
    format: Option<String>,
    group_by: Option<String>,
    campaign_id: Option<String>,
    /// One partner's campaigns (a partner token: its own only).
    partner_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// A parameter given to the route that does not take it, refused like an unknown field.
fn not_here(value: &Option<String>, name: &str, route: &str) -> ApiResult<()> {
    match value {
        Some(_) => Err(ApiError::invalid_request(format!(
            "{name}: not a parameter of {route}."
        ))),
        None => Ok(()),
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Report {
    Funnel(FunnelReport),
    Groups(GroupReport),
}

/// Which report: the funnel unless `groupBy` is given; both at once is ambiguous.
fn report_kind(funnel: Option<&str>, group_by: Option<&str>) -> ApiResult<Option<GroupBy>> {
    let funnel = match funnel {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::invalid_request("funnel: expected true or false.")),
    };
    let group = group_by
        .map(|raw| {
            GroupBy::parse(raw).ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "groupBy: expected one of {}.",
                    GroupBy::ALL.map(GroupBy::as_str).join(", ")
                ))
            })
        })
        .transpose()?;
    match (funnel, group) {
        (Some(true), Some(_)) => Err(ApiError::invalid_request(
            "groupBy: cannot be combined with funnel=true; ask for one or the other.",
        )),
        (Some(false), None) => Err(ApiError::invalid_request(
            "groupBy: required when funnel=false.",
        )),
        (_, group) => Ok(group),
    }
}

/// Which campaigns a report covers. Campaigns are read under the caller's own handle only
/// (another handle's id is a 404); a partner token sees its own campaigns only, and a
/// `partnerId` filter keeps one partner's (another partner's, for a partner token: 404).
/// Round trips: ONE read for one campaign, else ONE listing of the handle's campaigns.
async fn scope(state: &AppState, caller: &Caller, p: &ReportParams) -> ApiResult<Scope> {
    let store = state.store.as_ref();
    let partner = p.partner_id.as_deref().map(PartnerId::parse).transpose()?;
    if let (Some(want), Some(own)) = (&partner, caller.partner())
        && want != own
    {
        return Err(ApiError::not_found(format!("Partner {want}")));
    }
    let wanted = partner.as_ref().or(caller.partner());
    let keeps = |c: &crate::campaigns::model::Campaign| {
        wanted.is_none_or(|p| c.partner_id.as_ref() == Some(p))
    };
    if let Some(raw) = p.campaign_id.as_deref() {
        let id = parse_campaign_id(raw)?;
        let campaign = campaigns::get(store, &caller.handle, &id)
            .await?
            .filter(|c| keeps(c))
            .ok_or_else(|| ApiError::not_found(format!("Campaign {id}")))?;
        return Ok(Scope::One(campaign));
    }
    let all = campaigns::list_all(store, &caller.handle).await?;
    Ok(match wanted {
        // One partner's campaigns only, never the handle's other traffic.
        Some(_) => Scope::Campaigns(all.into_iter().filter(|c| keeps(c)).collect()),
        None => Scope::All(all),
    })
}

async fn build(state: &AppState, caller: &Caller, p: &ReportParams) -> ApiResult<Report> {
    let group = report_kind(p.funnel.as_deref(), p.group_by.as_deref())?;
    let now = crate::platform::time::now();
    let range = DayRange::parse(p.from.as_deref(), p.to.as_deref(), now.date())?;
    let store = state.store.as_ref();
    let scope = scope(state, caller, p).await?;
    Ok(match group {
        None => {
            let mut funnel =
                report::funnel(store, &caller.handle, &scope, &range, now.unix_timestamp()).await?;
            with_commissions(state, caller, &range, &mut funnel).await?;
            funnel.freshness = freshness(state).await;
            if caller.partner().is_some() {
                // A partner reads its numbers, never the judgment of them (bots "likely
                // fraudulent", sales "carrying fraud signals"): its risk is the program's.
                for row in &mut funnel.campaigns {
                    row.confidence_reasons.clear();
                }
            }
            Report::Funnel(funnel)
        }
        Some(g) => {
            Report::Groups(report::group_by(store, &caller.handle, &scope, g, &range).await?)
        }
    })
}

/// How far behind the counts may be; `None` (the field left out) when it cannot be read now:
/// the funnel's numbers still answer.
async fn freshness(state: &AppState) -> Option<crate::analytics::freshness::Freshness> {
    let clicks = state.clicks.as_deref();
    let now = crate::platform::time::now_millis();
    let memo = &state.freshness;
    match crate::analytics::freshness::freshness(state.store.as_ref(), clicks, memo, now).await {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(error = %e, "the funnel's freshness could not be read");
            None
        }
    }
}

/// Each campaign row's commission amounts over the report's days (the running amounts: one
/// query per campaign).
async fn with_commissions(
    state: &AppState,
    caller: &Caller,
    range: &DayRange,
    funnel: &mut FunnelReport,
) -> ApiResult<()> {
    let campaigns: Vec<crate::domain::CampaignId> = funnel
        .campaigns
        .iter()
        .filter_map(|row| row.campaign_id.clone())
        .collect();
    let (from, to) = (range.from_day(), range.to_day());
    let mut amounts = crate::ledger::balances::per_campaign(
        state.store.as_ref(),
        &caller.handle,
        &campaigns,
        &from,
        &to,
    )
    .await?;
    for row in &mut funnel.campaigns {
        if let Some(a) = row.campaign_id.as_ref().and_then(|c| amounts.remove(c)) {
            row.commissions = a;
        }
    }
    Ok(())
}

/// `?orphans=true`: one query over the handle's orphan counters; the other report parameters
/// except `from`/`to` do not apply.
async fn orphans(state: &AppState, caller: &Caller, p: &ReportParams) -> ApiResult<Response> {
    if p.funnel.is_some() || p.group_by.is_some() || p.campaign_id.is_some() {
        return Err(ApiError::invalid_request(
            "orphans: cannot be combined with funnel, groupBy or campaignId.",
        ));
    }
    let today = crate::platform::time::now().date();
    let range = DayRange::parse(p.from.as_deref(), p.to.as_deref(), today)?;
    let report =
        crate::clicks::orphans::report(state.store.as_ref(), &caller.handle, &range).await?;
    Ok(axum::Json(report).into_response())
}

async fn analytics(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ReportParams>,
) -> ApiResult<Response> {
    not_here(&p.format, "format", "/analytics (see /analytics/export)")?;
    match p.orphans.as_deref() {
        None | Some("false") => {}
        // Orphan visits are the handle's, not any partner's.
        Some("true") if caller.partner().is_some() => {
            return Err(ApiError::new(
                ErrorCode::InsufficientScope,
                "A partner token reads its campaigns' analytics, not the handle's orphan visits.",
            ));
        }
        Some("true") => return orphans(&state, &caller, &p).await,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "orphans: expected true or false.",
            ));
        }
    }
    let report = build(&state, &caller, &p).await?;
    Ok(axum::Json(report).into_response())
}

async fn export_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ReportParams>,
) -> ApiResult<Response> {
    not_here(&p.orphans, "orphans", "/analytics/export")?;
    let csv = match p.format.as_deref() {
        None | Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::invalid_request("format: expected csv or json.")),
    };
    let report = build(&state, &caller, &p).await?;
    let (name, from, to) = match &report {
        Report::Funnel(r) => ("funnel", r.from.clone(), r.to.clone()),
        Report::Groups(r) => (r.group_by, r.from.clone(), r.to.clone()),
    };
    let (body, content_type, ext) = if csv {
        let bytes = match &report {
            Report::Funnel(r) => export::funnel_csv(r),
            Report::Groups(r) => export::groups_csv(r),
        }
        .map_err(ApiError::internal)?;
        (bytes, "text/csv; charset=utf-8", "csv")
    } else {
        let bytes = serde_json::to_vec(&report).map_err(ApiError::internal)?;
        (bytes, "application/json", "json")
    };
    // Handles, dimension names and days are all `[a-z0-9-]`: safe in the header unquoted.
    let filename = format!("analytics-{}-{name}-{from}-{to}.{ext}", caller.handle);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_is_the_default_and_cannot_be_mixed_with_group_by() {
        assert_eq!(report_kind(None, None).unwrap(), None);
        assert_eq!(report_kind(Some("true"), None).unwrap(), None);
        assert_eq!(
            report_kind(None, Some("country")).unwrap(),
            Some(GroupBy::Country)
        );
        assert_eq!(
            report_kind(Some("false"), Some("day")).unwrap(),
            Some(GroupBy::Day)
        );
        let named = |r: ApiResult<Option<GroupBy>>, field: &str| {
            let e = r.unwrap_err();
            assert_eq!(e.code, "invalid_request");
            assert!(e.message.starts_with(field), "{}", e.message);
        };
        named(report_kind(Some("yes"), None), "funnel:");
        named(report_kind(None, Some("planet")), "groupBy:");
        named(report_kind(Some("true"), Some("country")), "groupBy:");
        named(report_kind(Some("false"), None), "groupBy:");
    }
}
