//! The mock Vault's keys and A-JWTs: one Ed25519 key per instance (derived from a seed when
//! given), tokens with the claims of the Vault's golden token, and the forged tokens faults
//! need (another tool, other arguments, a key outside the JWKS).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::protocol::ClearanceRequest;
use crate::token::{Audience, TokenClaims, TokenSigner, tool_args_hash};

/// `iss` of every token.
pub(crate) const ISSUER: &str = "alcv-vault";
/// `aud` of every token.
pub(crate) const AUDIENCE: &str = "ledgix-sdk";

/// The secret seeds of one instance: the token key, the ledger key, and the rogue key that
/// signs `wrong_signing_key` tokens.
#[derive(Clone)]
pub(crate) struct Seeds {
    pub(crate) token: [u8; 32],
    pub(crate) ledger: [u8; 32],
    pub(crate) rogue: [u8; 32],
}

impl Seeds {
    /// Three keys derived from one seed (reproducible), or from a random one.
    pub(crate) fn new(seed: Option<[u8; 32]>) -> Seeds {
        let seed = seed.unwrap_or_else(crate::random::seed);
        Seeds {
            token: seed,
            ledger: derive(b"ledgix-mock-ledger-key", &seed),
            rogue: derive(b"ledgix-mock-rogue-key", &seed),
        }
    }
}

fn derive(label: &[u8], seed: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update([0u8]);
    h.update(seed);
    h.finalize().into()
}

/// A key id naming the public key of `seed`: `<prefix>-<12 hex of SHA-256(public key)>`.
pub(crate) fn key_id(prefix: &str, seed: &[u8; 32]) -> String {
    let public = SigningKey::from_bytes(seed).verifying_key();
    let digest = Sha256::digest(public.as_bytes());
    let hex = crate::hex::encode(digest);
    format!("{prefix}-{}", hex.get(..12).unwrap_or(&hex))
}

/// Mints the instance's A-JWTs.
pub(crate) struct Minter {
    signer: TokenSigner,
    rogue: TokenSigner,
    ttl: Duration,
}

impl Minter {
    pub(crate) fn new(seeds: &Seeds, ttl: Duration) -> Minter {
        let kid = key_id("mock-vault", &seeds.token);
        Minter {
            signer: TokenSigner::from_seed(kid.clone(), seeds.token),
            // Same kid, other key: a forgery that names the real key.
            rogue: TokenSigner::from_seed(kid, seeds.rogue),
            ttl,
        }
    }

    /// The signer whose public key the JWKS serves.
    pub(crate) fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The token for an approval of `request`, bound to its tool and arguments.
    pub(crate) fn mint(&self, request: &ClearanceRequest) -> String {
        self.mint_bound(request, &request.tool_name, &request.tool_args, false)
    }

    /// A token for `request` whose binding says `tool` and `tool_args`; `rogue` signs it
    /// with a key that is not in the JWKS.
    pub(crate) fn mint_bound(
        &self,
        request: &ClearanceRequest,
        tool: &str,
        tool_args: &Map<String, Value>,
        rogue: bool,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = TokenClaims {
            iss: ISSUER.into(),
            sub: "clearance".into(),
            aud: Audience::Many(vec![AUDIENCE.into()]),
            exp: now.saturating_add(self.ttl.as_secs()),
            iat: Some(now),
            nbf: None,
            jti: crate::random::uuid_v4(),
            tool: tool.into(),
            agent_id: request.agent_id.clone(),
            session_id: request.session_id.clone().unwrap_or_default(),
            policy_id: request.policy_id().unwrap_or_default().to_string(),
            decision: "approved".into(),
            tool_args_hash: tool_args_hash(tool_args),
            extra: Map::new(),
        };
        if rogue {
            self.rogue.sign(&claims)
        } else {
            self.signer.sign(&claims)
        }
    }
}
