//! Each command's flags become its settings ([`crate::settings`]) here, once.

use std::time::Duration;

use tweetpipe_common::exit::Classified;

use super::{CheckArgs, DatabaseArgs, Dedup, ReplayArgs, RunArgs, StartAt, StatsArgs};
use crate::settings::Target;
use crate::settings::{
    CheckSettings, DatabaseSettings, PseudonymKey, ReplaySettings, RunSettings, StatsSettings,
};

impl DatabaseArgs {
    pub(crate) fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size,
            statement_timeout: self.statement_timeout,
            connect_timeout: self.db_connect_timeout,
        }
    }
}

impl RunArgs {
    /// The run's settings; [`RunSettings::validate`] says whether they can work.
    pub(crate) fn settings(&self) -> RunSettings {
        let pseudonym_key = match (&self.pseudonym_key_file, &self.pseudonym_key) {
            _ if !self.pseudonymize => None,
            (Some(path), _) => Some(PseudonymKey::File(path.clone())),
            (None, Some(key)) => Some(PseudonymKey::Value(key.clone())),
            (None, None) => None,
        };
        RunSettings {
            kafka: self.kafka.settings(),
            database: self.database.settings(),
            migrate: self.migrate && !self.no_migrate,
            topic: self.topic.clone(),
            group: self.group.clone(),
            batch_size: self.batch_size,
            db_writers: self.db_writers,
            // `--batch-linger`, else the old `--batch-linger-ms`, else 2 ms.
            batch_linger: self.batch_linger.or(self.batch_linger_ms).unwrap_or(Duration::from_millis(2)),
            dedup_cache: self.dedup_cache,
            filter_terms: self.filter_terms.clone(),
            filter_file: self.filter_file.clone(),
            filter_mode: self.filter_mode,
            link_content: self.dedup == Dedup::Content,
            pseudonym_key,
            exit_at_end: self.exit_at_end,
            seed_from: match self.from {
                Some(StartAt::Datetime(t)) => Some(t),
                // `earliest` is where a fresh group starts anyway (auto.offset.reset).
                Some(StartAt::Earliest) | None => None,
            },
            http_addr: self.http_addr,
            drain_timeout: self.drain_timeout,
            summary_json: self.summary_json.clone(),
        }
    }

    /// The settings, validated: what `run` starts from.
    pub(crate) fn validated(&self) -> anyhow::Result<RunSettings> {
        if self.pseudonymize && self.pseudonym_key_file.is_none() && self.pseudonym_key.is_none() {
            return Err(Classified::config(
                "--pseudonymize needs a key: set TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file",
            ));
        }
        let settings = self.settings();
        settings.validate()?;
        Ok(settings)
    }
}

impl CheckArgs {
    /// Not validated here: `check` reports a bad setting as its step's failure.
    pub(crate) fn settings(&self) -> CheckSettings {
        CheckSettings { run: self.run.settings(), timeout: self.timeout }
    }
}

impl StatsArgs {
    pub(crate) fn settings(&self) -> StatsSettings {
        StatsSettings { database: self.database.settings(), by_day: self.by == "day" }
    }
}

impl ReplayArgs {
    /// Where to move the group, from `--to`, `--to-datetime` or `--to-offsets`.
    pub(crate) fn settings(&self) -> anyhow::Result<ReplaySettings> {
        let target = match (&self.to, self.to_datetime, &self.to_offsets) {
            (Some(_), _, _) => Target::Earliest,
            (None, Some(t), _) => Target::Datetime(t),
            (None, None, spec) => Target::offsets(spec.as_deref().unwrap_or_default())
                .map_err(|e| Classified::config(format!("--to-offsets: {e:#}")))?,
        };
        Ok(ReplaySettings {
            kafka: self.kafka.settings(),
            database: self.database.settings(),
            topic: self.topic.clone(),
            group: self.group.clone(),
            target,
            execute: self.execute,
        })
    }
}
