function __hark_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hark_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __hark_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hark_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __hark_parse_tokens -S
    set -l unparsed_tokens (__hark_tokens -pc)
    switch $unparsed_tokens[1]
    case 'hark'
        __hark_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'init'
            __hark_parse_subcommand 0 'home=' 'name=' 'passphrase' 'passphrase-file=' 'version' 'h/help'
        case 'id'
            __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
        case 'daemon'
            __hark_parse_subcommand 0 'home=' 'port=' 'listen=' 'peer=+' 'no-discovery' 'log-level=' 'log-format=' 'config=' 'passphrase-file=' 'auto-fetch-max=' 'auto-fetch-dir=' 'version' 'h/help'
        case 'status'
            __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
        case 'peers'
            __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
        case 'peer'
            __hark_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'alias'
                __hark_parse_subcommand 2 'home=' 'json' 'version' 'h/help'
            case 'forget'
                __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
            case 'block'
                __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
            case 'unblock'
                __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
            end
        case 'group'
            __hark_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __hark_parse_subcommand 1 'home=' 'channel' 'json' 'version' 'h/help'
            case 'invite'
                __hark_parse_subcommand 1 'home=' 'for=' 'expires=' 'uses=' 'version' 'h/help'
            case 'join'
                __hark_parse_subcommand 1 'home=' 'timeout=' 'json' 'version' 'h/help'
            case 'accept'
                __hark_parse_subcommand 1 'home=' 'timeout=' 'json' 'version' 'h/help'
            case 'invites'
                __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
            case 'list'
                __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
            case 'members'
                __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
            case 'remove'
                __hark_parse_subcommand 2 'home=' 'version' 'h/help'
            case 'role'
                __hark_parse_subcommand 3 'home=' 'version' 'h/help'
            case 'leave'
                __hark_parse_subcommand 1 'home=' 'version' 'h/help'
            end
        case 'send'
            __hark_parse_subcommand 2 'home=' 'json' 'wait=' 'of=' 'timeout=' 'peer=+' 'passphrase-file=' 'version' 'h/help'
        case 'log'
            __hark_parse_subcommand 1 'home=' 'json' 'f/follow' 'l/limit=' 'before=' 'after=' 'ids' 'graph' 'version' 'h/help'
        case 'edit'
            __hark_parse_subcommand 3 'home=' 'json' 'version' 'h/help'
        case 'delete'
            __hark_parse_subcommand 2 'home=' 'version' 'h/help'
        case 'react'
            __hark_parse_subcommand 3 'home=' 'remove' 'json' 'version' 'h/help'
        case 'read'
            __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
        case 'watch'
            __hark_parse_subcommand 1 'home=' 'json' 'exec=' 'include-own' 'exec-timeout=' 'version' 'h/help'
        case 'chat'
            __hark_parse_subcommand 1 'home=' 'history=' 'version' 'h/help'
        case 'presence'
            __hark_parse_subcommand 1 'home=' 'status=' 'json' 'version' 'h/help'
        case 'share'
            __hark_parse_subcommand -r 1 'home=' 'g/group=' 'm/message=' 'json' 'version' 'h/help'
        case 'files'
            __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
        case 'fetch'
            __hark_parse_subcommand 1 'home=' 'o=' 'force' 'timeout=' 'limit-rate=' 'json' 'version' 'h/help'
        case 'audit'
            __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
        case 'export'
            __hark_parse_subcommand 1 'home=' 'jsonl' 'version' 'h/help'
        case 'import'
            __hark_parse_subcommand 1 'home=' 'version' 'h/help'
        case 'doctor'
            __hark_parse_subcommand 0 'home=' 'json' 'version' 'h/help'
        case 'verify'
            __hark_parse_subcommand 1 'home=' 'json' 'version' 'h/help'
        case 'pair'
            __hark_parse_subcommand 1 'home=' 'accept' 'yes' 'code=' 'timeout=' 'json' 'version' 'h/help'
        case 'key'
            __hark_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'export'
                __hark_parse_subcommand 0 'home=' 'out=' 'passphrase-file=' 'version' 'h/help'
            case 'import'
                __hark_parse_subcommand 1 'home=' 'passphrase-file=' 'passphrase' 'version' 'h/help'
            end
        case 'help'
            __hark_parse_subcommand -r 1 'version'
        end
    end
end

function __hark_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __hark_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __hark_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __hark_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__hark_tokens -p)
    if test -z "$(__hark_tokens -t)"
        set -l index (count (__hark_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'hark' -f
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'init' -d 'Create this node\'s long-term identity.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'id' -d 'Print this node\'s peer ID and fingerprint.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'daemon' -d 'Run the node in the foreground.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'status' -d 'Show the running node\'s state.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'peers' -d 'List peers seen by the running node (as last stored when no daemon runs).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'peer' -d 'Name, block or forget a peer\'s key on this node.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'group' -d 'Create groups and channels, invite, join, and manage members and roles.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'send' -d 'Send a message to a group.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'log' -d 'Show a group\'s messages in their total order.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'edit' -d 'Replace the text of one of your messages.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'delete' -d 'Delete one of your messages for everyone.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'react' -d 'Add a reaction to a message, or withdraw yours with --remove.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'read' -d 'Mark a group\'s messages as read (senders see a read receipt).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'watch' -d 'Stream what happens: messages, edits, deletes, reactions, members, presence, typing, receipts, file offers.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'chat' -d 'Chat in a group or direct conversation, full screen (needs a terminal).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'presence' -d 'Show or set this node\'s presence (online or away, with a status text).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'share' -d 'Offer files or folders to a group.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'files' -d 'List file offers.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'fetch' -d 'Download offered files from every peer that holds them.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'audit' -d 'Re-check every stored event: signatures, hash links, Lamport timestamps, rules, forks.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'export' -d 'Write a group\'s signed events, one JSON object per line.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'import' -d 'Verify and store signed events written by `hark export` (for groups this node is a member of).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'doctor' -d 'Explain why peers are not seen, and how to fix it.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'verify' -d 'Show the safety number of a peer\'s identity key and yours, to compare out of band.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'pair' -d 'Verify a connected peer by comparing a short code on both screens.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'key' -d 'Back up or restore this node\'s identity.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" name' -l 'name' -d 'Display name shown to peers (1 to 64 bytes; not an identity).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" passphrase' -l 'passphrase' -d 'Encrypt the key files with a passphrase.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" passphrase-file' -l 'passphrase-file' -d 'Read the passphrase from the first line of this file (implies --passphrase).' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark id" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark id" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark id" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark id" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" port' -l 'port' -d 'TCP port for peer connections (default: the last one used, else 7411, else any; 0 picks a free one).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" listen' -l 'listen' -d 'Address to listen on (default ::).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon"' -l 'peer' -d 'A peer to connect to, HOST:PORT or [V6]:PORT (repeatable).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" no-discovery' -l 'no-discovery' -d 'Do not use avahi-daemon (publish nothing, browse nothing).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" log-level' -l 'log-level' -d 'Log level (default info).' -rfka 'trace debug info notice warning error'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" log-format' -l 'log-format' -d 'Log line format (default auto: journal when stderr is the journal, else text).' -rfka 'auto text journal json'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" config' -l 'config' -d 'Daemon options file (default: $XDG_CONFIG_HOME/hark/config.toml).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'toml\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" passphrase-file' -l 'passphrase-file' -d 'For keys encrypted with `init --passphrase`: read the passphrase from the first line of this file (else it is asked for on the terminal; exit 77 without either, or when it is wrong).' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" auto-fetch-max' -l 'auto-fetch-max' -d 'Fetch file offers by others of at most this many bytes by themselves (0: never).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" auto-fetch-dir' -l 'auto-fetch-dir' -d 'Where auto-fetched files go (default: files/ in the home).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark daemon" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark status" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark status" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark status" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peers" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peers" json' -l 'json' -d 'Print one JSON object per line.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peers" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peers" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer" -eq 1' -fa 'alias' -d 'Give a peer\'s key a local name that always reaches that key.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer" -eq 1' -fa 'forget' -d 'Forget a peer\'s key, its names, warnings, verification and alias (like ssh-keygen -R).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer" -eq 1' -fa 'block' -d 'Block a peer\'s key: no channel to or from it, its events are not relayed to watch or chat.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer" -eq 1' -fa 'unblock' -d 'Allow channels with a blocked peer\'s key again.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer alias" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer alias" -eq 1' -fka '(__hark_custom_completion ---completion peer alias -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer alias" json' -l 'json' -d 'Print the peer as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer alias" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer alias" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer forget" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer forget" -eq 1' -fka '(__hark_custom_completion ---completion peer forget -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer forget" json' -l 'json' -d 'Print the forgotten peer as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer forget" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer forget" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer block" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer block" -eq 1' -fka '(__hark_custom_completion ---completion peer block -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer block" json' -l 'json' -d 'Print the peer as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer block" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer block" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer unblock" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark peer unblock" -eq 1' -fka '(__hark_custom_completion ---completion peer unblock -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer unblock" json' -l 'json' -d 'Print the peer as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer unblock" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark peer unblock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'create' -d 'Create a group or channel (writes its genesis event and a random group key).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'invite' -d 'Print an invite token for a group (one line).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'join' -d 'Join a group with an invite token.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'accept' -d 'Accept an invite a peer sent over the encrypted channel (see `hark group invites`).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'invites' -d 'List invites peers sent over the encrypted channel.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'list' -d 'List the groups this node is a member of.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'members' -d 'List a group\'s members with their roles and presence.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'remove' -d 'Remove a member (admins remove members; the owner also removes admins).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'role' -d 'Make a member an admin, or an admin a member (owner only).'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group" -eq 1' -fa 'leave' -d 'Leave a group (the owner cannot).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group create" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group create" channel' -l 'channel' -d 'Make a channel: only the owner and admins post.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group create" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group create" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group invite" -eq 1' -fka '(__hark_custom_completion ---completion group invite -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" for' -l 'for' -d 'Only this peer may use it (peer ID, fingerprint or name).' -rfka '(__hark_custom_completion ---completion group invite -- --for (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" expires' -l 'expires' -d 'Validity: 10m, 1h, 7d… (default 1h, at most 30d).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" uses' -l 'uses' -d 'How many peers may join with it (default 1).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invite" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group join" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group join" timeout' -l 'timeout' -d 'How long to wait for an admin (default 20s).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group join" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group join" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group join" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group accept" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group accept" timeout' -l 'timeout' -d 'How long to wait for an admin (default 20s).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group accept" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group accept" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group accept" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invites" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invites" json' -l 'json' -d 'Print one JSON object per line.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invites" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group invites" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group list" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group list" json' -l 'json' -d 'Print one JSON object per line.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group list" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group members" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group members" -eq 1' -fka '(__hark_custom_completion ---completion group members -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group members" json' -l 'json' -d 'Print one JSON object per member.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group members" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group members" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group remove" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group remove" -eq 1' -fka '(__hark_custom_completion ---completion group remove -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group remove" -eq 2' -fka '(__hark_custom_completion ---completion group remove -- positional@1 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group remove" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group role" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group role" -eq 1' -fka '(__hark_custom_completion ---completion group role -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group role" -eq 2' -fka '(__hark_custom_completion ---completion group role -- positional@1 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group role" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group role" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group leave" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark group leave" -eq 1' -fka '(__hark_custom_completion ---completion group leave -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group leave" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark group leave" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark send" -eq 1' -fka '(__hark_custom_completion ---completion send -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" json' -l 'json' -d 'Print the message sent as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" wait' -l 'wait' -d 'Wait until the message is delivered, read or settled.' -rfka 'delivered read settled'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" of' -l 'of' -d 'With --wait: how many members, all, any or N.' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" timeout' -l 'timeout' -d 'Give up waiting after this long: 500ms, 30s, 2m (default 30s; 10s without a daemon).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send"' -l 'peer' -d 'Without a daemon: also dial this peer, HOST:PORT (repeatable).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" passphrase-file' -l 'passphrase-file' -d 'Without a daemon, for a home with encrypted keys: read the passphrase from the first line of this file (never asked for; exit 77 without it).' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark send" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark log" -eq 1' -fka '(__hark_custom_completion ---completion log -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" json' -l 'json' -d 'Print one JSON object per message (NDJSON).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" f follow' -l 'follow' -s 'f' -d 'Keep printing new messages as they arrive.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" l limit' -l 'limit' -s 'l' -d 'Show only the last N messages (with --after: the first N; with --follow: 20 unless given).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" before' -l 'before' -d 'Show only messages before this one (ID prefix of 8+ hex digits).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" after' -l 'after' -d 'Show only messages after this one (ID prefix of 8+ hex digits).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" ids' -l 'ids' -d 'Print every event ID of the group (all kinds) in total order, one per line.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" graph' -l 'graph' -d 'Draw the causal graph of the group\'s events, newest first.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark log" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark edit" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark edit" -eq 1' -fka '(__hark_custom_completion ---completion edit -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark edit" json' -l 'json' -d 'Print the edited message as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark edit" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark edit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark delete" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark delete" -eq 1' -fka '(__hark_custom_completion ---completion delete -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark delete" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark react" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark react" -eq 1' -fka '(__hark_custom_completion ---completion react -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark react" remove' -l 'remove' -d 'Withdraw your reaction instead.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark react" json' -l 'json' -d 'Print the message as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark react" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark react" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark read" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark read" -eq 1' -fka '(__hark_custom_completion ---completion read -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark read" json' -l 'json' -d 'Print the result as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark read" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark read" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark watch" -eq 1' -fka '(__hark_custom_completion ---completion watch -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" json' -l 'json' -d 'Print one JSON object per event (NDJSON).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" exec' -l 'exec' -d 'Run this shell command once per new message.' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" include-own' -l 'include-own' -d 'With --exec: also run it for messages this node sent.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" exec-timeout' -l 'exec-timeout' -d 'With --exec: kill CMD after this long (e.g. 30s).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark chat" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark chat" history' -l 'history' -d 'Messages of history to load first (default: a screenful and the unread ones).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark chat" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark chat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark presence" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark presence" status' -l 'status' -d 'Status text, up to 64 bytes ("" clears it).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark presence" json' -l 'json' -d 'Print the result as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark presence" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark presence" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark share" -ge 1' -F
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" g group' -l 'group' -s 'g' -d 'The group to offer them to (default: the only group).' -rfka '(__hark_custom_completion ---completion share -- --group (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" m message' -s 'm' -l 'message' -d 'A note sent with the offer.' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" json' -l 'json' -d 'Print the result as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark share" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark files" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark files" -eq 1' -fka '(__hark_custom_completion ---completion files -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark files" json' -l 'json' -d 'Print one JSON object per offer (NDJSON).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark files" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark files" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark fetch" -eq 1' -fka '(__hark_custom_completion ---completion fetch -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" o' -s 'o' -d 'Put the files into this folder (created if missing).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" force' -l 'force' -d 'Replace files that exist already.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" timeout' -l 'timeout' -d 'Give up when no peer can serve a missing chunk for this long (e.g. 30s).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" limit-rate' -l 'limit-rate' -d 'Fetch at most this many bytes per second from all peers together: a number with an optional K, M or G (powers of 1024), e.g. 20M; at least 64K.' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" json' -l 'json' -d 'Print progress as JSON objects, one per line (NDJSON).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark fetch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark audit" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark audit" -eq 1' -fka '(__hark_custom_completion ---completion audit -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark audit" json' -l 'json' -d 'Print one JSON object per group.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark audit" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark audit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark export" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark export" -eq 1' -fka '(__hark_custom_completion ---completion export -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark export" jsonl' -l 'jsonl' -d 'JSON lines (the only format; accepted for clarity).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark export" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark import" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark import" -eq 1' -F
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark import" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark import" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark doctor" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark doctor" json' -l 'json' -d 'Print one JSON object (the report).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark doctor" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark doctor" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark verify" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark verify" -eq 1' -fka '(__hark_custom_completion ---completion verify -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark verify" json' -l 'json' -d 'Print one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark verify" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark pair" -eq 1' -fka '(__hark_custom_completion ---completion pair -- positional@0 (count (__hark_tokens -pc)) (__hark_tokens -tC))'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" accept' -l 'accept' -d 'Answer a pairing the other side started.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" yes' -l 'yes' -d 'Confirm without asking (you compared the codes another way).'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" code' -l 'code' -d 'Confirm only if the code is this one (digits, spaces ignored).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" timeout' -l 'timeout' -d 'How long to wait for the other side: 30s, 2m (default 60s).' -rfka ''
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" json' -l 'json' -d 'Print the final state as one JSON object.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark pair" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark key" -eq 1' -fa 'export' -d 'Write an encrypted backup of the identity key, the Noise key and the profile.'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark key" -eq 1' -fa 'import' -d 'Restore an identity from `hark key export` into an empty home.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key export" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key export" out' -l 'out' -d 'Where to write (default: ./hark-identity-FINGERPRINT.backup).' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key export" passphrase-file' -l 'passphrase-file' -d 'Read the passphrase from the first line of this file.' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key export" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key import" home' -l 'home' -d 'The node\'s home directory (default: $HARK_HOME, else $XDG_DATA_HOME/hark).' -rfa '(__hark_complete_directories)'
complete -c 'hark' -n '__hark_should_offer_completions_for_positional "hark key import" -eq 1' -fa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'backup\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key import" passphrase-file' -l 'passphrase-file' -d 'Read the passphrase from the first line of this file.' -rF
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key import" passphrase' -l 'passphrase' -d 'Keep the restored key files encrypted with the backup\'s passphrase.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key import" version' -l 'version' -d 'Show the version.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark key import" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hark' -n '__hark_should_offer_completions_for_flags_or_options "hark help" version' -l 'version' -d 'Show the version.'
