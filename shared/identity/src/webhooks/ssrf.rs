//! The SSRF guard: a webhook endpoint is a URL a tenant chooses and our worker POSTs to, so
//! without this check anyone could make us call our own metadata service, loopback admin ports
//! or private network. An endpoint is refused when its host is, or resolves to, any address that
//! is not publicly routable. The check runs at creation and again at every delivery; at delivery
//! the worker connects to exactly the address checked here, so a DNS answer that changes between
//! check and connect (DNS rebinding) cannot slip through.
//!
//! `TENX_WEBHOOKS_ALLOW_PRIVATE=true` (local development only) lets private and loopback
//! addresses through, never the cloud metadata service ([`is_metadata`]). Refusals of a name
//! never say which address it resolved to: that would map a tenant's view of our network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use url::{Host, Url};

/// Why an address may not be called, or `None` when it is publicly routable.
pub fn blocked_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "unspecified (\"this network\")"),
        ([10, 0, 0, 0], 8, "private"),
        ([100, 64, 0, 0], 10, "shared (CGNAT)"),
        ([127, 0, 0, 0], 8, "loopback"),
        // Includes 169.254.169.254, the cloud metadata service.
        ([169, 254, 0, 0], 16, "link-local (cloud metadata)"),
        ([172, 16, 0, 0], 12, "private"),
        ([192, 0, 0, 0], 24, "IETF protocol assignment"),
        ([192, 0, 2, 0], 24, "documentation"),
        ([192, 168, 0, 0], 16, "private"),
        ([198, 18, 0, 0], 15, "benchmarking"),
        ([198, 51, 100, 0], 24, "documentation"),
        ([203, 0, 113, 0], 24, "documentation"),
        ([224, 0, 0, 0], 4, "multicast"),
        ([255, 255, 255, 255], 32, "broadcast"),
        ([240, 0, 0, 0], 4, "reserved"),
    ];
    RANGES
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, kind)| *kind)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(net)) & mask)
}

/// The cloud metadata service (169.254.169.254 and the rest of IPv4 link-local, AWS's
/// fd00:ec2::254), also when embedded in an IPv6 address: refused in every mode.
pub fn is_metadata(ip: IpAddr) -> bool {
    const AWS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    let link_local = |v4: Ipv4Addr| in_v4(v4, [169, 254, 0, 0], 16);
    match ip {
        IpAddr::V4(v4) => link_local(v4),
        IpAddr::V6(v6) => {
            let six_to_four = Ipv4Addr::from(((u128::from(v6) >> 80) & 0xffff_ffff) as u32);
            let embedded = in_v6(v6, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96)
                || in_v6(v6, [0, 0, 0, 0, 0, 0, 0, 0], 96)
                || in_v6(v6, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
            v6 == AWS_V6
                || (embedded && link_local(low_v4(v6)))
                || (in_v6(v6, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) && link_local(six_to_four))
        }
    }
}

/// Why `ip` is refused under the mode, or `None`.
fn refused_kind(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    match (is_metadata(ip), allow_private) {
        (true, _) => Some("cloud metadata"),
        (false, true) => None,
        (false, false) => blocked_kind(ip),
    }
}

/// The IPv4 address embedded in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // ::ffff:a.b.c.d reaches a.b.c.d: judge the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    // NAT64 (64:ff9b::/96) translates to the embedded IPv4 address.
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return blocked_v4(low_v4(ip));
    }
    // 6to4 (2002::/16) tunnels to the IPv4 address in bits 16..48.
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let embedded = Ipv4Addr::from(((u128::from(ip) >> 80) & 0xffff_ffff) as u32);
        return blocked_v4(embedded);
    }
    const RANGES: &[([u16; 8], u32, &str)] = &[
        // IPv4-compatible addresses (deprecated): never a legitimate public endpoint.
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible (deprecated)"),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "local-use NAT64"),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
        // Teredo tunnels to arbitrary IPv4 addresses.
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo tunnel"),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
        // Includes fd00:ec2::254, the AWS IPv6 metadata service.
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local (deprecated)"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
    ];
    RANGES
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
        .map(|(_, _, kind)| *kind)
}

/// Why an endpoint may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The host is, or resolves to, a non-public address.
    #[error("{0}; webhook endpoints must be publicly routable")]
    Blocked(String),
    /// The host name did not resolve (now): not necessarily an attack.
    #[error("{host} could not be resolved: {detail}")]
    Unresolved { host: String, detail: String },
    #[error("the URL has no host")]
    NoHost,
}

/// DNS, behind a seam so the guard can be tested with any answer.
#[async_trait]
pub trait Resolver: Send + Sync {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>>;
}

/// The system resolver (getaddrinfo, so `/etc/hosts` counts), bounded by a timeout.
pub struct SystemResolver {
    pub timeout: Duration,
}

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        let lookup = tokio::net::lookup_host((host, port));
        match tokio::time::timeout(self.timeout, lookup).await {
            Ok(addrs) => Ok(addrs?.map(|a| a.ip()).collect()),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "DNS lookup timed out",
            )),
        }
    }
}

/// `localhost` and `*.localhost` always mean this machine (RFC 6761), whatever DNS says.
fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost" || host.ends_with(".localhost")
}

/// Vets an endpoint URL and returns the one address to connect to. A host name is refused when
/// ANY of its addresses is blocked (a mixed answer is how rebinding attacks start).
/// `allow_private` (local development) lets private and loopback addresses through, never the
/// metadata service.
pub async fn vet(
    url: &Url,
    resolver: &dyn Resolver,
    allow_private: bool,
) -> Result<SocketAddr, Refusal> {
    let port = url.port_or_known_default().unwrap_or(443);
    let ip = match url.host() {
        None => return Err(Refusal::NoHost),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(name)) => return vet_name(name, port, resolver, allow_private).await,
    };
    match refused_kind(ip, allow_private) {
        Some(kind) => Err(Refusal::Blocked(format!("{ip} is a {kind} address"))),
        None => Ok(SocketAddr::new(ip, port)),
    }
}

async fn vet_name(
    name: &str,
    port: u16,
    resolver: &dyn Resolver,
    allow_private: bool,
) -> Result<SocketAddr, Refusal> {
    let addrs = match resolver.resolve(name, port).await {
        Ok(addrs) if !addrs.is_empty() => addrs,
        Ok(_) | Err(_) if is_localhost_name(name) && !allow_private => {
            return Err(Refusal::Blocked(format!("{name} is a loopback name")));
        }
        Ok(_) => {
            return Err(Refusal::Unresolved {
                host: name.to_owned(),
                detail: "no addresses".into(),
            });
        }
        Err(e) => {
            return Err(Refusal::Unresolved {
                host: name.to_owned(),
                detail: e.to_string(),
            });
        }
    };
    if addrs
        .iter()
        .any(|ip| refused_kind(*ip, allow_private).is_some())
    {
        return Err(Refusal::Blocked(format!(
            "{name} resolves to an address that is not publicly routable"
        )));
    }
    if is_localhost_name(name) && !allow_private {
        return Err(Refusal::Blocked(format!("{name} is a loopback name")));
    }
    Ok(SocketAddr::new(addrs[0], port))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn vet_public(url: &Url, dns: &dyn Resolver) -> Result<SocketAddr, Refusal> {
        vet(url, dns, false).await
    }

    #[tokio::test]
    async fn metadata_is_refused_in_every_mode_and_refusals_never_name_the_address() {
        for literal in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
        ] {
            let e = vet(&url(literal), &FakeDns(vec![]), true)
                .await
                .unwrap_err();
            assert!(matches!(e, Refusal::Blocked(_)), "{literal}: {e:?}");
        }
        let to_metadata = FakeDns(vec![ip("169.254.169.254")]);
        let e = vet(&url("http://metadata.example/"), &to_metadata, true)
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("169.254"), "{e}");
        // Private and loopback pass in development mode, and stay refused otherwise.
        let private = FakeDns(vec![ip("10.0.0.5")]);
        assert!(
            vet(&url("http://svc.internal/"), &private, true)
                .await
                .is_ok()
        );
        assert!(
            vet(&url("http://127.0.0.1:9/"), &private, true)
                .await
                .is_ok()
        );
        let e = vet_public(&url("http://svc.internal/"), &private)
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("10.0.0.5"), "{e}");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocked_ranges_and_their_edges() {
        let blocked = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.192",
            "192.0.2.10",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001::1",
            "2001:db8::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
        ];
        for s in blocked {
            assert!(blocked_kind(ip(s)).is_some(), "{s} must be blocked");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.255.255",
            "169.255.0.1",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ];
        for s in public {
            assert_eq!(blocked_kind(ip(s)), None, "{s} must be allowed");
        }
        assert_eq!(blocked_kind(ip("127.0.0.1")), Some("loopback"));
        assert_eq!(blocked_kind(ip("::ffff:192.168.0.1")), Some("private"));
        assert_eq!(blocked_kind(ip("fd12::1")), Some("unique-local"));
    }

    struct FakeDns(Vec<IpAddr>);

    #[async_trait]
    impl Resolver for FakeDns {
        async fn resolve(&self, _host: &str, _port: u16) -> std::io::Result<Vec<IpAddr>> {
            if self.0.is_empty() {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "NXDOMAIN",
                ))
            } else {
                Ok(self.0.clone())
            }
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn literals_are_judged_without_dns() {
        let dns = FakeDns(vec![]);
        let e = vet_public(&url("http://127.0.0.1:9000/x"), &dns)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "127.0.0.1 is a loopback address; webhook endpoints must be publicly routable"
        );
        // WHATWG URL parsing turns these spellings into 127.0.0.1 before we look.
        for s in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(
                matches!(vet_public(&url(s), &dns).await, Err(Refusal::Blocked(_))),
                "{s}"
            );
        }
        assert_eq!(
            vet_public(&url("https://8.8.8.8/hook"), &dns).await,
            Ok("8.8.8.8:443".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn names_are_judged_by_every_address_they_resolve_to() {
        let rebinding = FakeDns(vec![ip("93.184.215.14"), ip("10.0.0.5")]);
        let e = vet_public(&url("https://hooks.example.com/"), &rebinding)
            .await
            .unwrap_err();
        assert_eq!(
            e,
            Refusal::Blocked(
                "hooks.example.com resolves to an address that is not publicly routable".into()
            )
        );
        let public = FakeDns(vec![ip("93.184.215.14")]);
        assert_eq!(
            vet_public(&url("http://hooks.example.com:8080/"), &public).await,
            Ok("93.184.215.14:8080".parse().unwrap())
        );
        let nx = FakeDns(vec![]);
        assert!(matches!(
            vet_public(&url("https://nowhere.example/"), &nx).await,
            Err(Refusal::Unresolved { .. })
        ));
        // Loopback names are refused even when DNS says otherwise or nothing at all.
        assert!(matches!(
            vet_public(&url("http://app.localhost/"), &nx).await,
            Err(Refusal::Blocked(_))
        ));
        assert!(matches!(
            vet_public(&url("http://app.localhost/"), &public).await,
            Err(Refusal::Blocked(_))
        ));
    }

    #[tokio::test]
    async fn the_system_resolver_sees_localhost_as_loopback() {
        let dns = SystemResolver {
            timeout: Duration::from_secs(5),
        };
        let e = vet_public(&url("http://localhost:1/"), &dns)
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with("localhost resolves to "),
            "resolution, not the name rule, refused it: {e}"
        );
    }
}
