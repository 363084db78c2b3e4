#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets (corpus/<target>/): a handful of valid inputs
# each, from the readable text below (protoc --encode turns text protos into binary). Rerun it
# after a change to an input format; the files are committed, so the fuzz tests need no protoc.
set -euo pipefail
cd "$(dirname "$0")"
root=../..
out=corpus
rm -rf "$out"
mkdir -p "$out"/{fuzz_frame_decode,fuzz_board,fuzz_resume,fuzz_sdk_frames}

encode() {  # encode <message type> <text proto>
  printf '%s' "$2" | protoc --encode="huddle.v1.$1" -I "$root/proto" "$root/proto/huddle/v1/frame.proto"
}
byte() { printf "\\x$(printf %02x "$1")"; }

# ---- fuzz_frame_decode: client messages, JSON text and binary ----
d=$out/fuzz_frame_decode
printf '%s' '{"requestId":"1","hello":{"displayName":"Ann","memberId":"ann"}}' > $d/json_hello
printf '%s' '{"requestId":"8","opId":"j1","join":{"roomId":"r","resume":{"epoch":"5","lastSeq":"12"}}}' > $d/json_join_resume
printf '%s' '{"requestId":"7","opId":"c1","postChat":{"roomId":"r","text":"hi \u00e9 \ud83d\ude00"}}' > $d/json_post_chat
printf '%s' '{"request_id":9,"set_phase":{"room_id":"r","phase":"PHASE_VOTE","timer_minutes":5}}' > $d/json_set_phase_proto_names
printf '%s' '{"requestId":"3","createAction":{"roomId":"r","title":"Call","ownerId":"bob","dueDate":"2026-02-28","ideaId":"4"}}' > $d/json_create_action
encode ClientFrame 'request_id: 1 hello { display_name: "Ann" member_id: "ann" }' > $d/bin_hello
encode ClientFrame 'request_id: 2 op_id: "op-2" post_idea { room_id: "r" text: "Bundle" tags: "a" tags: "b" }' > $d/bin_post_idea
encode ClientFrame 'request_id: 3 join { room_id: "r" resume { epoch: 77 last_seq: 12 } }' > $d/bin_join_resume
encode ClientFrame 'request_id: 4 set_voting { room_id: "r" budget: 3 per_idea_cap: 2 }' > $d/bin_set_voting

# ---- fuzz_board: [options][part 1 length, big-endian 2 bytes][part 1][raw commands] ----
# Raw command: [actor][length][ClientFrame]; ids 1..64 name existing things by index, a
# one-byte member id names a roster entry.
raw() {  # raw <actor byte> <text proto>
  local f
  f=$(mktemp)
  encode ClientFrame "$2" > "$f"
  byte "$1"
  byte "$(stat -c %s "$f")"
  cat "$f"
  rm -f "$f"
}
choices() {  # choices <n> <seed>: n pseudo-random bytes (an LCG: the same every run)
  LC_ALL=C awk -v n="$1" -v x="$2" 'BEGIN {
    for (i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%c", int(x / 65536) % 256 } }'
}
d=$out/fuzz_board
for seed in 1 2 3; do
  n=$((400 * seed))
  { byte $((seed * 9 % 256)); byte $((n / 256)); byte $((n % 256)); choices $n $seed; } > $d/session_$seed
done
{ byte 4; byte 0; byte 0
  raw 0 'post_idea { room_id: "retro" text: "Bundle the onboarding" tags: "ops" }'
  raw 2 'post_idea { room_id: "retro" text: "Price sheet" }'
  raw 0 'set_phase { room_id: "retro" phase: PHASE_GROUP timer_minutes: 10 }'
  raw 1 'create_group { room_id: "retro" name: "Pricing" }'
  raw 2 'move_idea { room_id: "retro" idea_id: 1 group_id: 1 }'
  raw 3 'post_comment { room_id: "retro" idea_id: 2 text: "Yes" }'
  raw 3 'react { room_id: "retro" idea_id: 2 reaction: REACTION_HEART }'
  raw 0 'set_phase { room_id: "retro" phase: PHASE_VOTE deadline_unix_ms: 86400000 }'
  raw 1 'set_voting { room_id: "retro" budget: 2 per_idea_cap: 1 }'
  raw 2 'vote { room_id: "retro" idea_id: 1 }'
  raw 2 'vote { room_id: "retro" idea_id: 2 }'
  raw 2 'vote { room_id: "retro" idea_id: 2 }'
  raw 2 'unvote { room_id: "retro" idea_id: 1 }'
  raw 0 'set_phase { room_id: "retro" phase: PHASE_DISCUSS }'
  raw 0 'create_action { room_id: "retro" title: "Call" owner_id: "\002" due_date: "2028-02-29" idea_id: 2 }'
  raw 2 'set_action_status { room_id: "retro" action_id: 1 status: ACTION_STATUS_DONE }'
  raw 1 'set_role { room_id: "retro" member_id: "\003" role: ROLE_OBSERVER }'
} > $d/raw_whole_session
{ byte 2; byte 0; byte 0
  raw 2 'post_idea { room_id: "retro" text: "hidden one" }'
  raw 3 'edit_idea { room_id: "retro" idea_id: 1 text: "not mine" }'
  raw 2 'edit_idea { room_id: "retro" idea_id: 1 text: "mine" tags: "x" }'
  raw 1 'set_hide_ideas { room_id: "retro" hide_ideas: false }'
  raw 0 'set_goal { room_id: "retro" goal { objective: "Win Q3" success_criteria: "10 deals" } }'
  raw 2 'delete_idea { room_id: "retro" idea_id: 1 }'
} > $d/raw_hidden_ideas

# ---- fuzz_resume: bytes drive the room and the join; a few shapes ----
d=$out/fuzz_resume
printf '\x20\x01\x00\x20\x00\x01\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x10\x10\x00\x10\x08\x05' > $d/dense_complete_exact
printf '\x20\x02\x40\x01\x01\x03\x03\x02\x07\x01\x09\x00\x04\x02\x08\x01\x01\x02\x02\x03\x03\x01\x01\x02\x02\x03\x03\x01\x01\x02\x02\x00\x01\x00\x02\x05\x01' > $d/sparse_partial_between
printf '\x20\x00\x02\x01\x00\x20\x00\x00\x00\x00\x00\x00\x00\x02' > $d/empty_room_at_head
printf '\x05\x00\x00\x00\x00\x00\x00\x00\x07\x50\x00\x01\x00\x00\x00\x01' > $d/other_epoch

# ---- fuzz_sdk_frames: [how it arrived: bit 0 text, bit 1 apply twice][ServerMessage] ----
d=$out/fuzz_sdk_frames
snap='snapshot { room_id: "retro" seq: 3 board { room { room_id: "retro" title: "Retro" } seq: 3
  roster { member { member_id: "ann" display_name: "Ann" } joined_seq: 1 role: ROLE_OWNER }
  roster { member { member_id: "bob" display_name: "Bob" } joined_seq: 2 role: ROLE_PARTICIPANT }
  phase { phase: PHASE_VOTE started_seq: 3 } voting { budget: 2 }
  ideas { idea_id: 3 author { member_id: "bob" } text: "Bundle" vote_count: 1 votes { member_id: "bob" count: 1 } } } }'
ev() { echo "event_batch { events { room_id: \"retro\" seq: $1 prev_seq: $2 actor { member_id: \"$3\" } $4 } }"; }
{ byte 0; encode ServerMessage "frames { $snap } frames { $(ev 5 3 ann 'vote_cast { idea_id: 3 }') } frames { $(ev 6 5 bob 'vote_retracted { idea_id: 3 }') } frames { $(ev 6 5 bob 'chat_posted { text: "dup" }') }"; } > $d/snapshot_then_events
{ byte 2; encode ServerMessage "frames { $snap } frames { $(ev 4 3 ann 'idea_deleted { idea_id: 3 }') } frames { $(ev 9 7 ann 'chat_posted { text: "gap" }') }"; } > $d/snapshot_twice_with_gap
{ byte 0; encode ServerMessage 'frames { reply { request_id: 7 seq: 4 } } frames { presence { room_id: "retro" joined { member_id: "carl" } } } frames { typing { room_id: "retro" member { member_id: "carl" } } }'; } > $d/reply_presence_typing
{ byte 0; encode ServerMessage 'frames { reply { request_id: 9 history { events { room_id: "retro" seq: 1 actor { member_id: "ann" } room_created { title: "Retro" } } events { room_id: "retro" seq: 2 prev_seq: 1 actor { member_id: "bob" } member_joined { role: ROLE_PARTICIPANT } } has_more: false } } }'; } > $d/history_page
{ byte 1; printf '%s' '{"frames":[{"reply":{"requestId":"1"}}]}'; } > $d/text_message_refused
# ---- fuzz_ws_frames: [k][k chunk sizes][client frames, masked] ----
d=$out/fuzz_ws_frames
mkdir -p $d
wsframe() {  # wsframe <first byte> <payload, a printf format>: masked with the key 37 fa 21 3d
  local key=(55 250 33 61) bytes n i=0 b s
  read -r -a bytes <<< "$(printf "$2" | od -An -v -tu1 | tr -s ' \n' '  ')"
  n=${#bytes[@]}
  byte "$1"
  if ((n < 126)); then byte $((128 + n))
  elif ((n < 65536)); then byte 254; byte $((n >> 8)); byte $((n & 255))
  else byte 255; for s in 56 48 40 32 24 16 8 0; do byte $(((n >> s) & 255)); done; fi
  for b in "${key[@]}"; do byte "$b"; done
  for b in "${bytes[@]}"; do byte $((b ^ key[i % 4])); i=$((i + 1)); done
}
{ byte 3; byte 1; byte 7; byte 50
  wsframe 0x81 'hello'
  wsframe 0x82 "$(printf '\\x%02x' $(seq 0 199))"
  wsframe 0x89 'ping'
  wsframe 0x8a 'pong'
  wsframe 0x81 '\xe2\x82\xac \xf0\x9f\x98\x80'
  wsframe 0x88 '\x03\xe8bye'
} > $d/messages_then_close
{ byte 2; byte 0; byte 3
  wsframe 0x01 'frag \xe2\x82'
  wsframe 0x89 'between'
  wsframe 0x00 '\xac'
  wsframe 0x00 ''
  wsframe 0x80 ' end'
  wsframe 0x02 ''
  wsframe 0x80 '\xff\xfe'
} > $d/fragmented_with_pings
{ byte 1; byte 200; wsframe 0x81 "$(printf 'x%.0s' $(seq 1 300))"; } > $d/length_16bit
{ byte 0; wsframe 0x81 'ok'; wsframe 0x81 '\xed\xa0\x80'; } > $d/invalid_utf8
{ byte 0; wsframe 0x82 ''  # 128 KiB declared, past the 64 KiB limit: 1009 from the header.
  byte 0x82; byte 255; for b in 0 0 0 0 0 2 0 0 1 2 3 4; do byte $b; done; } > $d/too_big_header
{ byte 1; byte 1; wsframe 0x88 '\x03\xed'; } > $d/close_invalid_code
ls -l "$out"/*
