//! Polling the token endpoint with a device code (RFC 8628 §3.4, §3.5):
//! what each poll is answered, apart from the store that holds the code.

use crate::clock::UnixTime;
use crate::domain::device_code::{DeviceCodeState, SLOW_DOWN_STEP};
use crate::domain::secret::Redacted;

/// The token request of the grant (RFC 8628 §3.4).
pub struct DeviceCodeRequest {
    pub device_code: String,
    /// RFC 8707 §2.2.
    pub resources: Vec<String>,
}

impl std::fmt::Debug for DeviceCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeRequest")
            .field("device_code", &Redacted)
            .field("resources", &self.resources)
            .finish()
    }
}

/// What a stored device authorization is, as far as these rules look.
#[derive(Debug, Clone, Copy)]
pub struct IssuedDeviceCode<'a> {
    pub client_id: &'a str,
    pub state: DeviceCodeState,
    pub expires_at: UnixTime,
    pub interval: i64,
    pub last_polled_at: Option<UnixTime>,
}

/// Why a poll gets no tokens. The first four are RFC 8628 §3.5's error
/// codes; the rest are `invalid_grant` (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PollRejection {
    #[error("the user has not yet completed the authorization")]
    AuthorizationPending,
    /// The interval becomes `interval` seconds (§3.5: grown by 5).
    #[error("polling too fast; wait {interval} seconds between requests")]
    SlowDown { interval: i64 },
    #[error("the user denied the authorization request")]
    AccessDenied,
    #[error("the device code has expired")]
    ExpiredToken,
    #[error("the device code is invalid")]
    Unknown,
    /// Another client's device code gets the answer of an unknown one.
    #[error("the device code is invalid")]
    OtherClient,
    /// Tokens were issued for it already; a device code is used once.
    #[error("the device code has already been used")]
    Redeemed,
}

impl PollRejection {
    /// The `error` code of the response (RFC 8628 §3.5, RFC 6749 §5.2).
    pub fn code(self) -> &'static str {
        match self {
            PollRejection::AuthorizationPending => "authorization_pending",
            PollRejection::SlowDown { .. } => "slow_down",
            PollRejection::AccessDenied => "access_denied",
            PollRejection::ExpiredToken => "expired_token",
            PollRejection::Unknown | PollRejection::OtherClient | PollRejection::Redeemed => {
                "invalid_grant"
            }
        }
    }
}

/// What `client_id` polling at `now` gets: `Ok` when the tokens may be
/// issued. The client is checked first, so that another client's code
/// says nothing about its state; expiry next (§3.5 `expired_token`).
/// Only a pending code is held to the interval: once the person allowed
/// it, the next poll gets the tokens however soon it comes.
pub fn poll(
    code: &IssuedDeviceCode<'_>,
    client_id: &str,
    now: UnixTime,
) -> Result<(), PollRejection> {
    if code.client_id != client_id {
        return Err(PollRejection::OtherClient);
    }
    if now >= code.expires_at {
        return Err(PollRejection::ExpiredToken);
    }
    match code.state {
        DeviceCodeState::Allowed => Ok(()),
        DeviceCodeState::Denied => Err(PollRejection::AccessDenied),
        DeviceCodeState::Redeemed => Err(PollRejection::Redeemed),
        DeviceCodeState::Pending => match code.last_polled_at {
            // §3.5: "the interval MUST be increased by 5 seconds for this
            // and all subsequent requests".
            Some(last) if now < last + code.interval => Err(PollRejection::SlowDown {
                interval: code.interval + SLOW_DOWN_STEP,
            }),
            _ => Err(PollRejection::AuthorizationPending),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(state: DeviceCodeState, last_polled_at: Option<UnixTime>) -> IssuedDeviceCode<'static> {
        IssuedDeviceCode {
            client_id: "cli_tv",
            state,
            expires_at: 1_600,
            interval: 5,
            last_polled_at,
        }
    }

    #[test]
    fn a_pending_code_answers_pending_at_the_interval_and_slow_down_sooner() {
        let first = code(DeviceCodeState::Pending, None);
        assert_eq!(
            poll(&first, "cli_tv", 1_000),
            Err(PollRejection::AuthorizationPending)
        );
        let polled = code(DeviceCodeState::Pending, Some(1_000));
        assert_eq!(
            poll(&polled, "cli_tv", 1_005),
            Err(PollRejection::AuthorizationPending)
        );
        let e = poll(&polled, "cli_tv", 1_004).unwrap_err();
        assert_eq!(e, PollRejection::SlowDown { interval: 10 });
        assert_eq!(e.code(), "slow_down");
        // The grown interval holds for the next polls.
        let slowed = IssuedDeviceCode {
            interval: 10,
            ..polled
        };
        assert_eq!(
            poll(&slowed, "cli_tv", 1_009),
            Err(PollRejection::SlowDown { interval: 15 })
        );
    }

    #[test]
    fn an_allowed_code_is_redeemed_however_soon_the_poll_comes() {
        let allowed = code(DeviceCodeState::Allowed, Some(1_000));
        assert_eq!(poll(&allowed, "cli_tv", 1_001), Ok(()));
    }

    #[test]
    fn denied_spent_and_expired_codes_say_so() {
        let denied = code(DeviceCodeState::Denied, None);
        assert_eq!(
            poll(&denied, "cli_tv", 1_000),
            Err(PollRejection::AccessDenied)
        );
        let spent = code(DeviceCodeState::Redeemed, None);
        assert_eq!(poll(&spent, "cli_tv", 1_000), Err(PollRejection::Redeemed));
        assert_eq!(PollRejection::Redeemed.code(), "invalid_grant");
        for state in [DeviceCodeState::Pending, DeviceCodeState::Allowed] {
            assert_eq!(
                poll(&code(state, None), "cli_tv", 1_600),
                Err(PollRejection::ExpiredToken)
            );
        }
    }

    #[test]
    fn another_clients_code_looks_unknown_whatever_its_state() {
        for state in [DeviceCodeState::Allowed, DeviceCodeState::Denied] {
            let e = poll(&code(state, None), "cli_other", 2_000).unwrap_err();
            assert_eq!(e, PollRejection::OtherClient);
            assert_eq!(e.to_string(), PollRejection::Unknown.to_string());
            assert_eq!(e.code(), "invalid_grant");
        }
    }

    #[test]
    fn the_request_redacts_the_device_code() {
        let r = DeviceCodeRequest {
            device_code: "dc_secret".into(),
            resources: vec![],
        };
        assert!(!format!("{r:?}").contains("dc_secret"));
    }
}
