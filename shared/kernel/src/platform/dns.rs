//! DNS lookups (issue 64: custom domains), through hickory's resolver: the system's
//! (`/etc/resolv.conf`), or the one server `TENX_DNS_RESOLVER` names (`ip:port`: the tests'
//! authoritative server). A resolver is built per lookup with no cache, so a record just
//! published is seen by the next check, never a negative answer cached from the one before.

use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// No answer could be had (the resolver is down or timed out): try again later. The
    /// resolver's own words (`reason`) go to the log, not to the person who asked.
    #[error("No DNS server answered when we looked up {name}, so it could not be checked")]
    Unavailable { name: String, reason: String },
}

/// An answer that says the record does not exist (NXDOMAIN, or NODATA: no error, no record);
/// a SERVFAIL or REFUSED is no answer at all.
fn no_such_record(e: &hickory_resolver::ResolveError) -> bool {
    use hickory_resolver::proto::ProtoErrorKind;
    use hickory_resolver::proto::op::ResponseCode;
    match e.proto().map(hickory_resolver::proto::ProtoError::kind) {
        Some(ProtoErrorKind::NoRecordsFound { response_code, .. }) => {
            matches!(
                *response_code,
                ResponseCode::NoError | ResponseCode::NXDomain
            )
        }
        _ => false,
    }
}

/// The TXT strings published at exactly `name` (each record's strings joined). Only records
/// whose owner is `name` itself count: an answer reached through a CNAME is another name's
/// record, so a CNAME pointing at a zone someone else controls never stands in for the name.
/// No record (NXDOMAIN, NODATA) is an empty list, not an error.
pub async fn txt_at(server: Option<SocketAddr>, name: &str) -> Result<Vec<String>, DnsError> {
    let unavailable = |reason: String| {
        tracing::warn!(%name, %reason, "DNS lookup without an answer");
        DnsError::Unavailable {
            name: name.to_owned(),
            reason,
        }
    };
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.attempts = 2;
    options.timeout = std::time::Duration::from_secs(3);
    let builder = match server {
        Some(addr) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        }
        None => TokioResolver::builder_tokio().map_err(|e| unavailable(e.to_string()))?,
    };
    let resolver = builder.with_options(options).build();
    // Fully qualified: no search domain is ever appended.
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let lookup = match resolver.lookup(fqdn.as_str(), RecordType::TXT).await {
        Ok(lookup) => lookup,
        Err(e) if no_such_record(&e) => return Ok(Vec::new()),
        Err(e) => return Err(unavailable(e.to_string())),
    };
    let wanted = name.trim_end_matches('.').to_ascii_lowercase();
    Ok(lookup
        .records()
        .iter()
        .filter(|r| {
            r.record_type() == RecordType::TXT
                && r.name()
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_ascii_lowercase()
                    == wanted
        })
        .filter_map(|r| match r.data() {
            RData::TXT(txt) => Some(
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect())
}
