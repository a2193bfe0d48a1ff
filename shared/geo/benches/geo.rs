//! What the redirect would pay per click for a country and a device (`cargo bench -p tenx-geo`):
//! one country lookup (IPv4, IPv6, an address off the public internet), one User-Agent parsed,
//! and the table's load at start. The numbers are in the crate's README.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tenx_geo::{Countries, device};

/// Spread over the address space so that the searches do not all walk the same cached path.
const V4: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "31.13.72.36",
    "51.15.0.1",
    "77.88.55.60",
    "103.21.244.1",
    "142.250.185.78",
    "185.60.216.35",
    "200.147.67.142",
    "223.5.5.5",
];
const V6: &[&str] = &[
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2a03:2880:f12f:83:face:b00c::25de",
    "2400:cb00::1",
    "2c0f:fb50:4003::1",
];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
];

fn addresses(texts: &[&str]) -> Vec<IpAddr> {
    texts
        .iter()
        .map(|t| t.parse().expect("an address"))
        .collect()
}

fn country(c: &mut Criterion) {
    let countries = Countries::load().expect("the embedded table");
    for (name, list) in [("ipv4", addresses(V4)), ("ipv6", addresses(V6))] {
        let mut i = 0;
        c.bench_function(&format!("country/{name}"), |b| {
            b.iter(|| {
                i = (i + 1) % list.len();
                countries.lookup(black_box(list[i]))
            });
        });
    }
    // Addresses drawn over the whole space (IPv4) and over 2000::/3 (IPv6, where the
    // allocations are): each search walks its own path through the table, as different
    // visitors' would, rather than the few cached paths of the lists above.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed
    };
    let spread: Vec<IpAddr> = (0..4096)
        .map(|n| {
            if n % 2 == 0 {
                IpAddr::from(Ipv4Addr::from(
                    u32::try_from(random() >> 32).expect("32 bits"),
                ))
            } else {
                let bits = (u128::from(random()) << 64 | u128::from(random())) >> 3;
                IpAddr::from(Ipv6Addr::from(bits | 0x2000_u128 << 112))
            }
        })
        .collect();
    let mut i = 0;
    c.bench_function("country/spread", |b| {
        b.iter(|| {
            i = (i + 1) % spread.len();
            countries.lookup(black_box(spread[i]))
        });
    });
    // The same after the caches nearest the core have been refilled with other data (a buffer
    // twice this machine's 4 MiB L2, read before each lookup, untimed), as between two clicks
    // of a busy process: the table then comes from the last-level cache or memory.
    let evict = vec![1_u8; 8 << 20];
    let mut i = 0;
    c.bench_function("country/cold", |b| {
        b.iter_batched(
            || {
                let touched: u64 = evict.iter().step_by(64).map(|&x| u64::from(x)).sum();
                i = (i + 1) % spread.len();
                (black_box(touched), spread[i])
            },
            |(_, address)| countries.lookup(black_box(address)),
            BatchSize::PerIteration,
        );
    });
    // The control: the same setup and timing around a lookup that reads no table.
    let private: IpAddr = "10.0.0.1".parse().expect("an address");
    c.bench_function("country/cold-control", |b| {
        b.iter_batched(
            || {
                let touched: u64 = evict.iter().step_by(64).map(|&x| u64::from(x)).sum();
                (black_box(touched), private)
            },
            |(_, address)| countries.lookup(black_box(address)),
            BatchSize::PerIteration,
        );
    });
    c.bench_function("country/private", |b| {
        b.iter(|| countries.lookup(black_box(private)));
    });
    c.bench_function("country/load", |b| b.iter(Countries::load));
}

fn user_agent(c: &mut Criterion) {
    let mut i = 0;
    c.bench_function("device/mix", |b| {
        b.iter(|| {
            i = (i + 1) % USER_AGENTS.len();
            device(black_box(USER_AGENTS[i]))
        });
    });
}

criterion_group!(benches, country, user_agent);
criterion_main!(benches);
