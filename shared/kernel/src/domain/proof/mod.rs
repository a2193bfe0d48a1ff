//! What makes a statement verifiable without our database: RFC 6962 Merkle trees over RFC 8785
//! canonical JSON, signed as compact JWS with Ed25519 (docs/partners.md).

pub mod jcs;
pub mod jws;
pub mod merkle;
