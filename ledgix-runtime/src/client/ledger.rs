//! Ledger endpoints of the client: fetching entries, checkpoints, proofs and proof bundles,
//! and verifying them offline (see [`crate::ledger`]) against the keys the client trusts for
//! the ledger — the keys pinned with `ConfigBuilder::ledger_keys`, else the JWKS of the
//! configured Vault (never the keys pinned for tokens). Keys a bundle embeds are never trusted
//! on their own.

use std::sync::Arc;
use std::time::Duration;

use super::LedgixClient;
use super::transport::Deadline;
use crate::error::Error;
use crate::jwk::KeySet;
use crate::ledger::{
    self, BundleVerification, CheckpointPage, ConsistencyProof, InclusionProof, LedgerCheckpoint,
    LedgerEntry, LedgerError, LedgerPage, LedgerVerification, ProofBundle, TrustedKeys,
};

/// The most entries or checkpoints the Vault returns in one answer.
const MAX_LEDGER_PAGE: u32 = 500;

/// HTTP status the Vault answers while a decision is not sealed into the tree yet.
const NOT_SEALED: u16 = 409;

impl LedgixClient {
    /// `GET /ledger?limit=N`: the tenant's most recent ledger entries (`limit` clamped to
    /// 1..=500).
    pub async fn fetch_ledger(&self, limit: u32) -> Result<Vec<LedgerEntry>, Error> {
        let page: LedgerPage = self
            .get_json(
                "/ledger",
                &[("limit", clamp(limit))],
                "GET /ledger",
                &mut self.deadline(),
            )
            .await?;
        Ok(page.entries)
    }

    /// `GET /ledger/checkpoints?limit=N`: the most recent signed checkpoints (`limit`
    /// clamped to 1..=500).
    pub async fn fetch_ledger_checkpoints(
        &self,
        limit: u32,
    ) -> Result<Vec<LedgerCheckpoint>, Error> {
        let page: CheckpointPage = self
            .get_json(
                "/ledger/checkpoints",
                &[("limit", clamp(limit))],
                "GET /ledger/checkpoints",
                &mut self.deadline(),
            )
            .await?;
        Ok(page.checkpoints)
    }

    /// `GET /ledger/proof/inclusion?request_id=..`: the inclusion proof of a decision. Not
    /// sealed yet: `Error::Ledger(LedgerError::NotSealed { .. })`.
    pub async fn fetch_inclusion_proof(&self, request_id: &str) -> Result<InclusionProof, Error> {
        let what = "GET /ledger/proof/inclusion";
        let proof: InclusionProof = self
            .get_sealed(
                "/ledger/proof/inclusion",
                request_id,
                what,
                &mut self.deadline(),
            )
            .await?;
        about_request(what, request_id, &proof.request_id)?;
        Ok(proof)
    }

    /// `GET /ledger/proof/consistency?from=..&to=..`: the consistency proof between two
    /// checkpoints, by id.
    pub async fn fetch_consistency_proof(
        &self,
        from_checkpoint_id: u64,
        to_checkpoint_id: u64,
    ) -> Result<ConsistencyProof, Error> {
        self.get_json(
            "/ledger/proof/consistency",
            &[
                ("from", from_checkpoint_id.to_string()),
                ("to", to_checkpoint_id.to_string()),
            ],
            "GET /ledger/proof/consistency",
            &mut self.deadline(),
        )
        .await
    }

    /// `GET /ledger/proof/bundle?request_id=..`: everything needed to check one decision
    /// offline. A decision the sealer has not appended yet (HTTP 409) is
    /// `Error::Ledger(LedgerError::NotSealed { .. })`, not a verification failure; see
    /// [`wait_for_ledger_proof_bundle`](Self::wait_for_ledger_proof_bundle).
    pub async fn fetch_ledger_proof_bundle(&self, request_id: &str) -> Result<ProofBundle, Error> {
        self.fetch_bundle_within(request_id, &mut self.deadline())
            .await
    }

    async fn fetch_bundle_within(
        &self,
        request_id: &str,
        deadline: &mut Deadline,
    ) -> Result<ProofBundle, Error> {
        let what = "GET /ledger/proof/bundle";
        let bundle: ProofBundle = self
            .get_sealed("/ledger/proof/bundle", request_id, what, deadline)
            .await?;
        about_request(what, request_id, &bundle.event.request_id)?;
        about_request(what, request_id, &bundle.inclusion.request_id)?;
        Ok(bundle)
    }

    /// [`fetch_ledger_proof_bundle`](Self::fetch_ledger_proof_bundle), asking again every
    /// `review_poll_interval` (through the configured sleeper) while the decision is not
    /// sealed; after `timeout` (retries of each fetch included) the `NotSealed` error is
    /// returned.
    pub async fn wait_for_ledger_proof_bundle(
        &self,
        request_id: &str,
        timeout: Duration,
    ) -> Result<ProofBundle, Error> {
        let config = self.config();
        let mut deadline = Deadline::after(timeout);
        loop {
            match self.fetch_bundle_within(request_id, &mut deadline).await {
                Err(Error::Ledger(LedgerError::NotSealed { .. })) => {
                    if deadline.is_over() {
                        return Err(not_sealed(request_id));
                    }
                    deadline.pause(config, config.review_poll_interval).await;
                }
                other => return other,
            }
        }
    }

    /// Verifies a proof bundle offline ([`ledger::verify_proof_bundle`]) against the keys
    /// this client trusts for the ledger. When the keys come from the Vault's JWKS and the
    /// bundle is signed by a key id the cached JWKS lacks, the JWKS is fetched again (key
    /// rotation) — at most once per `jwks_refetch_cooldown`, whatever the key ids of the
    /// bundles verified meanwhile.
    pub async fn verify_ledger_proof_bundle(
        &self,
        bundle: &ProofBundle,
    ) -> Result<BundleVerification, Error> {
        let keys = self.ledger_key_set(None).await?;
        let first =
            ledger::verify_proof_bundle(bundle, &TrustedKeys::from_key_set((*keys).clone()));
        let unknown_kid = match &first {
            Err(LedgerError::UntrustedKey { kid, .. }) if self.inner.ledger_keys.is_none() => kid,
            _ => return Ok(first?),
        };
        let fresh = self.ledger_key_set(Some(unknown_kid)).await?;
        if Arc::ptr_eq(&fresh, &keys) {
            // Not fetched again (the cooldown): the same keys give the same answer.
            return Ok(first?);
        }
        let fresh = TrustedKeys::from_key_set((*fresh).clone());
        Ok(ledger::verify_proof_bundle(bundle, &fresh)?)
    }

    /// Fetches the most recent entries and checkpoints (500 of each) and verifies them
    /// offline ([`ledger::verify_ledger`]) against the keys this client trusts. What the
    /// lists did not cover (a chain starting mid-way, roots whose leaves were not all
    /// fetched) is reported in the [`LedgerVerification`].
    pub async fn verify_ledger(&self) -> Result<LedgerVerification, Error> {
        let entries = self.fetch_ledger(MAX_LEDGER_PAGE).await?;
        let checkpoints = self.fetch_ledger_checkpoints(MAX_LEDGER_PAGE).await?;
        let keys = TrustedKeys::from_key_set((*self.ledger_key_set(None).await?).clone());
        Ok(ledger::verify_ledger(&entries, &checkpoints, &keys)?)
    }

    /// The keys trusted for the ledger: pinned ledger keys, else the Vault's JWKS (refetched
    /// when `kid` names a key it lacks, within the cooldown rule).
    async fn ledger_key_set(&self, kid: Option<&str>) -> Result<Arc<KeySet>, Error> {
        self.keys_for(self.inner.ledger_keys.as_ref(), kid).await
    }

    /// The deadline of one ledger call.
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline::after(self.config().review_timeout)
    }

    /// GET a proof for `request_id`; 409 means not sealed yet.
    async fn get_sealed<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        request_id: &str,
        what: &str,
        deadline: &mut Deadline,
    ) -> Result<T, Error> {
        if request_id.is_empty() {
            return Err(Error::Protocol(format!("{what}: empty request_id")));
        }
        let segments: Vec<&str> = path.split('/').collect();
        let answer = self
            .get(
                &segments,
                &[("request_id", request_id.to_owned())],
                what,
                deadline,
            )
            .await?;
        if answer.status == NOT_SEALED {
            return Err(not_sealed(request_id));
        }
        let body = answer.into_success()?;
        serde_json::from_slice(&body).map_err(|e| Error::Protocol(format!("{what}: {e}")))
    }
}

/// A proof fetched for `asked` must be about `asked`: a bundle of another decision verifies
/// on its own, and would otherwise be taken as the proof of this one.
fn about_request(what: &str, asked: &str, got: &str) -> Result<(), Error> {
    if got == asked {
        return Ok(());
    }
    Err(Error::Protocol(format!(
        "{what}?request_id={asked} answered with a proof about request `{}`",
        got.chars().take(128).collect::<String>()
    )))
}

fn not_sealed(request_id: &str) -> Error {
    Error::Ledger(LedgerError::NotSealed {
        request_id: request_id.to_owned(),
    })
}

fn clamp(limit: u32) -> String {
    limit.clamp(1, MAX_LEDGER_PAGE).to_string()
}
