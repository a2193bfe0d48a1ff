//! RFC 6962 Merkle trees (section 2.1): leaf hash `SHA-256(0x00 || leaf)`, node hash
//! `SHA-256(0x01 || left || right)`, the split at the largest power of two below the size, and
//! inclusion (audit) paths. Checked against the Certificate Transparency reference vectors.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
pub fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The tree head over already hashed leaves (`SHA-256("")` for none).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` (RFC 6962 2.1.1), bottom up. Empty when out of range.
pub fn path(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let n = leaves.len();
    if index >= n || n < 2 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut p = path(&leaves[..k], index);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = path(&leaves[k..], index - k);
        p.push(root(&leaves[..k]));
        p
    }
}

/// Recomputes the root from a leaf hash, its index, the tree size and its path (RFC 9162
/// 2.1.3.2), or `None` when the path does not fit the size.
pub fn root_from_path(leaf: Hash, index: usize, size: usize, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// The hashes that let a verifier holding the leaves `a..b` of a tree of `n` leaves recompute
/// its root: every maximal subtree outside `a..b`, left to right (the RFC 6962 splits), each
/// as `subtree(lo, hi)` answers it. O(log n) of them.
pub fn range_proof<E>(
    n: usize,
    (a, b): (usize, usize),
    subtree: &mut impl FnMut(usize, usize) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let mut out = Vec::new();
    if a < b && b <= n {
        range_walk((0, n), (a, b), &mut out, subtree)?;
    }
    Ok(out)
}

fn range_walk<E>(
    (lo, hi): (usize, usize),
    (a, b): (usize, usize),
    out: &mut Vec<Hash>,
    subtree: &mut impl FnMut(usize, usize) -> Result<Hash, E>,
) -> Result<(), E> {
    if hi <= a || lo >= b {
        out.push(subtree(lo, hi)?);
        return Ok(());
    }
    if a <= lo && hi <= b {
        return Ok(());
    }
    let k = split(hi - lo);
    range_walk((lo, lo + k), (a, b), out, subtree)?;
    range_walk((lo + k, hi), (a, b), out, subtree)
}

/// The root of a tree of `n` leaves from its leaves `offset..offset + leaves.len()` and their
/// [`range_proof`], or `None` when the proof does not fit (too few or too many hashes, a range
/// outside the tree).
pub fn root_from_range(leaves: &[Hash], offset: usize, n: usize, proof: &[Hash]) -> Option<Hash> {
    let b = offset.checked_add(leaves.len())?;
    if leaves.is_empty() || b > n {
        return None;
    }
    let mut next = proof.iter();
    let root = rebuild((0, n), (offset, b), leaves, &mut next)?;
    next.next().is_none().then_some(root)
}

fn rebuild<'a>(
    (lo, hi): (usize, usize),
    (a, b): (usize, usize),
    leaves: &[Hash],
    proof: &mut impl Iterator<Item = &'a Hash>,
) -> Option<Hash> {
    if hi <= a || lo >= b {
        return proof.next().copied();
    }
    if a <= lo && hi <= b {
        return Some(root(&leaves[lo - a..hi - a]));
    }
    let k = split(hi - lo);
    let left = rebuild((lo, lo + k), (a, b), leaves, proof)?;
    let right = rebuild((lo + k, hi), (a, b), leaves, proof)?;
    Some(node_hash(&left, &right))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Certificate Transparency reference leaves and tree heads for sizes 0 to 8.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn hashed() -> Vec<Hash> {
        LEAVES
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).unwrap()))
            .collect()
    }

    #[test]
    fn tree_heads_match_the_reference_vectors() {
        let leaves = hashed();
        for (n, expected) in ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&leaves[..n])), *expected, "size {n}");
        }
    }

    #[test]
    fn audit_paths_match_the_reference_vectors() {
        let leaves = hashed();
        let path0: Vec<String> = path(&leaves, 0).iter().map(hex::encode).collect();
        assert_eq!(
            path0,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
            ]
        );
        let path5: Vec<String> = path(&leaves, 5).iter().map(hex::encode).collect();
        assert_eq!(
            path5,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
            ]
        );
    }

    #[test]
    fn every_path_verifies_in_every_size_and_a_wrong_one_does_not() {
        let many: Vec<Hash> = (0u8..37)
            .map(|i| leaf_hash(&[i, i.wrapping_mul(7)]))
            .collect();
        for n in 1..=many.len() {
            let r = root(&many[..n]);
            for i in 0..n {
                let p = path(&many[..n], i);
                assert_eq!(root_from_path(many[i], i, n, &p), Some(r), "{i} of {n}");
                if n > 1 {
                    assert_ne!(root_from_path(many[(i + 1) % n], i, n, &p), Some(r));
                }
            }
        }
        assert_eq!(root_from_path(many[0], 3, 3, &[]), None);
    }

    #[test]
    fn every_range_verifies_from_its_proof_in_every_size_and_a_wrong_one_does_not() {
        let many: Vec<Hash> = (0u8..37).map(|i| leaf_hash(&[i, 3])).collect();
        for n in 1..=many.len() {
            let r = root(&many[..n]);
            let mut whole = |lo: usize, hi: usize| Ok::<_, ()>(root(&many[lo..hi]));
            for a in 0..n {
                for b in a + 1..=n {
                    let proof = range_proof(n, (a, b), &mut whole).unwrap();
                    assert!(proof.len() <= 2 * (usize::BITS - n.leading_zeros()) as usize);
                    assert_eq!(
                        root_from_range(&many[a..b], a, n, &proof),
                        Some(r),
                        "{a}..{b} of {n}"
                    );
                    if n > 1 {
                        let shifted = (a + 1) % n;
                        let moved = root_from_range(&many[a..b], shifted, n, &proof);
                        assert_ne!(moved, Some(r), "{a}..{b} of {n} shown at {shifted}");
                    }
                }
            }
        }
        let proof = range_proof(8, (2, 5), &mut |lo, hi| Ok::<_, ()>(root(&many[lo..hi]))).unwrap();
        assert_eq!(
            root_from_range(&many[2..5], 2, 8, &proof[1..]),
            None,
            "a hash missing"
        );
        assert_eq!(
            root_from_range(&many[2..5], 2, 8, &[proof.clone(), proof].concat()),
            None
        );
    }
}
