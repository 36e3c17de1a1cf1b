//! The start-up check tells wrong credentials, certificates and protocols (78) from an outage (69).

use super::*;

#[test]
fn credentials_and_certificates_are_configuration_errors() {
    let auth = "SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512";
    assert!(config_fault(Some(RDKafkaErrorCode::Authentication), auth).is_some());
    let tls = "ssl://localhost:19092/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified";
    assert!(config_fault(Some(RDKafkaErrorCode::BrokerTransportFailure), tls)
        .is_some_and(|m| m.contains("certificate verify failed")));
    assert!(config_fault(Some(RDKafkaErrorCode::BrokerTransportFailure), "Connection refused").is_none());
    assert!(config_fault(Some(RDKafkaErrorCode::AllBrokersDown), "3/3 brokers are down").is_none());
}

#[test]
fn connections_closed_at_once_are_protocol_mismatches() {
    let plaintext_at_tls = "localhost:19092/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 1ms in state APIVERSION_QUERY)";
    let tls_at_sasl = "ssl://localhost:19092/bootstrap: Disconnected: SSL connection closed by peer (after 0ms in state UP)";
    let idle =
        "ssl://localhost:19092/1: Disconnected: SSL connection closed by peer (after 600012ms in state UP)";
    assert!(is_protocol_mismatch(plaintext_at_tls) && is_protocol_mismatch(tls_at_sasl));
    assert!(!is_protocol_mismatch(idle));
    assert!(is_protocol_mismatch("ssl://localhost:19093/bootstrap: Send failed: SSL transport error: Broken pipe (after 0ms in state UP)"));
    assert!(!is_protocol_mismatch("localhost:19092/bootstrap: Connect to ipv4#127.0.0.1:19092 failed: Connection refused (after 0ms in state CONNECT)"));
}

#[test]
fn an_unreachable_broker_is_an_outage() {
    let mut config = ClientConfig::new();
    // A port nothing listens on (the discard port, closed on any sane machine).
    config.set("bootstrap.servers", "127.0.0.1:9").set("reconnect.backoff.max.ms", "200");
    let err = check_with(config, Duration::from_secs(3), &AtomicBool::new(false))
        .expect_err("nothing listens there");
    assert_eq!(crate::exit::class_of(&err), Some(crate::exit::Class::Unavailable), "{err:#}");
}
