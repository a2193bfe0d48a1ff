//! Where and on what a visitor clicks, read in process: the country of its IP address from an
//! embedded open database ([`Countries`]), and its OS, browser and kind of device from its
//! User-Agent ([`device`]). Nothing is downloaded at run time and nothing here keeps an address.
//!
//! IP address data: the Number Resource Organization (<https://www.nro.net/>), CC BY 4.0, as
//! compiled by sapics/ip-location-db (`geo-whois-asn-country`, CC0-1.0); `data/SOURCES.md`.

mod device;
mod table;

pub use device::{Device, DeviceKind, device};
pub use table::{Countries, Country, GeoError, is_public};
