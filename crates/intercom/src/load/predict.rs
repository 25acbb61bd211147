//! What a load into Intercom will cost, predicted from a source's scan (`deskmove scan`): the
//! calls per kind this target makes — counted from what `load/` sends for each record — and the
//! time they take under the call budget. Pure.

use std::collections::BTreeMap;

use deskmove_core::RecordKind;
use deskmove_core::connector::{CallBudget, ConversationSample, LoadPrediction, SourceScan};

use super::Mode;

/// Files one part carries at most (`attachment_files`, research intercom-api.md §4).
const FILES_PER_PART: u64 = 10;

/// Calls one conversation takes: its create and the source-id mark, every later message its own
/// reply or note (files past ten in parts of their own), then state, assignee and tags.
fn conversation_calls(s: &ConversationSample, mode: Mode) -> u64 {
    let body = match mode {
        Mode::Messages => {
            let extra_files = s
                .attachments
                .saturating_sub(s.messages_with_files * FILES_PER_PART)
                .div_ceil(FILES_PER_PART);
            s.messages.saturating_sub(1) + extra_files
        }
        // The transcript note, its files in parts of ten.
        Mode::Transcript => 1 + s.attachments.div_ceil(FILES_PER_PART).saturating_sub(1),
    };
    let state = u64::from(s.state != "open");
    2 + body + state + u64::from(s.assigned) + s.tags
}

/// The prediction for `scan` under `budget` in `mode`.
pub fn predict(scan: &SourceScan, budget: CallBudget, mode: Mode) -> LoadPrediction {
    let mut calls = BTreeMap::new();
    let n = |k| scan.count(k);
    // `GET /me`, the admins and the recent conversations (is the workspace live?).
    calls.insert("preflight".to_owned(), 3);
    calls.insert(RecordKind::Agent.to_string(), 1);
    for kind in [RecordKind::Tag, RecordKind::AttributeDefinition] {
        if n(kind) > 0 {
            // The listing, then one create each.
            calls.insert(kind.to_string(), 1 + n(kind));
        }
    }
    if n(RecordKind::Company) > 0 {
        calls.insert(RecordKind::Company.to_string(), n(RecordKind::Company));
    }
    let contacts = n(RecordKind::Contact);
    if contacts > 0 {
        let s = scan.contact_sample;
        let tagged = if s.sampled == 0 {
            0
        } else {
            (s.tagged * contacts).div_ceil(s.sampled)
        };
        calls.insert(RecordKind::Contact.to_string(), contacts + tagged);
    }
    let conversations = n(RecordKind::Conversation);
    let sample = &scan.conversation_sample;
    if conversations > 0 && !sample.is_empty() {
        let per: u64 = sample.iter().map(|s| conversation_calls(s, mode)).sum();
        calls.insert(
            RecordKind::Conversation.to_string(),
            (per * conversations).div_ceil(sample.len() as u64),
        );
    }
    let total_calls = calls.values().sum();
    let mut notes = vec![format!(
        "At {} calls a minute; round trips are assumed shorter than the budget's pace.",
        budget.calls_per_minute
    )];
    if mode == Mode::Messages {
        notes.push(
            "Close, snooze and assignment parts carry the import's time: Intercom takes no `created_at` on them.".into(),
        );
    }
    LoadPrediction {
        path: match mode {
            Mode::Messages => "api (messages)",
            Mode::Transcript => "api (transcript)",
        },
        seconds: budget.seconds(total_calls),
        calls,
        total_calls,
        rows: None,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(messages: u64, state: &str) -> ConversationSample {
        ConversationSample {
            messages,
            state: state.into(),
            ..ConversationSample::default()
        }
    }

    #[test]
    fn a_conversation_costs_one_call_a_message_plus_its_create_mark_and_state() {
        assert_eq!(
            conversation_calls(&sample(5, "open"), Mode::Messages),
            2 + 4
        );
        assert_eq!(
            conversation_calls(&sample(5, "closed"), Mode::Messages),
            2 + 4 + 1
        );
        let mut tagged = sample(1, "open");
        tagged.tags = 2;
        tagged.assigned = true;
        assert_eq!(conversation_calls(&tagged, Mode::Messages), 2 + 1 + 2);
        // Transcript: one note whatever the length.
        assert_eq!(
            conversation_calls(&sample(40, "open"), Mode::Transcript),
            2 + 1
        );
    }
}
