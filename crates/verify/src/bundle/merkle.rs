//! RFC 6962 / RFC 9162 Merkle tree hashing and inclusion proofs, as Rekor uses them.

use aws_lc_rs::digest;

/// `SHA-256(0x00 || leaf)`.
pub(crate) fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    hash(&[&[0u8], leaf])
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    hash(&[&[1u8], left, right])
}

fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The root hash that `proof` leads to from `leaf` at `index` in a tree of `size` leaves
/// (RFC 9162 §2.1.3.2); `Err` when the proof has the wrong shape.
pub(crate) fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[Vec<u8>],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!(
            "leaf index {index} is outside a tree of {size} leaves"
        ));
    }
    // The proof has one hash per level below the point where the paths to the leaf and to
    // the last leaf part (inner), plus one per right border node above it (border).
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if proof.len() != inner + border {
        return Err(format!(
            "the proof has {} hashes, a tree of {size} leaves needs {} for leaf {index}",
            proof.len(),
            inner + border
        ));
    }
    if proof.iter().any(|h| h.len() != 32) {
        return Err("a proof hash is not 32 bytes long".into());
    }
    let mut node = leaf;
    for (level, sibling) in proof[..inner].iter().enumerate() {
        node = if (index >> level) & 1 == 0 {
            node_hash(&node, sibling)
        } else {
            node_hash(sibling, &node)
        };
    }
    for sibling in &proof[inner..] {
        node = node_hash(sibling, &node);
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest power of two below `n` (n > 1).
    fn split(n: usize) -> usize {
        1 << (usize::BITS - 1 - (n - 1).leading_zeros())
    }

    /// Builds the root of `leaves` by the RFC 6962 definition.
    fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
            }
        }
    }

    /// The audit path of leaf `m` by the RFC 6962 definition.
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        let n = leaves.len();
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves_its_root() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&[i as u8])).collect();
            let expected = root(&leaves);
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = path(i, &leaves);
                let got = root_from_inclusion_proof(i as u64, size as u64, *leaf, &proof);
                assert_eq!(got, Ok(expected), "size {size} leaf {i}");
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(
                        root_from_inclusion_proof(i as u64, size as u64, *leaf, &bad),
                        Ok(expected)
                    );
                    assert!(!first.is_empty());
                }
            }
        }
        assert!(root_from_inclusion_proof(3, 3, [0; 32], &[]).is_err());
    }
}
