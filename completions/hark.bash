#!/bin/bash

__hark_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__hark_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__hark_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__hark_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_hark() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __hark_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    init|id|daemon|status|peers|peer|group|send|log|search|edit|delete|react|read|watch|chat|presence|share|files|fetch|audit|export|import|doctor|verify|pair|key|help)
        # Offer subcommand argument completions
        "_hark_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'init id daemon status peers peer group send log search edit delete react read watch chat presence share files fetch audit export import doctor verify pair key help' -- "${cur}"))
        ;;
    esac
}

_hark_init() {
    repeating_flags=()
    non_repeating_flags=(--passphrase --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --name --passphrase-file)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--name')
        return
        ;;
    '--passphrase-file')
        __hark_add_completions -f
        return
        ;;
    esac
}

_hark_id() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_daemon() {
    repeating_flags=()
    non_repeating_flags=(--no-discovery --version -h --help)
    repeating_options=(--peer)
    non_repeating_options=(--home --port --listen --log-level --log-format --config --passphrase-file --auto-fetch-max --auto-fetch-dir)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--port')
        return
        ;;
    '--listen')
        return
        ;;
    '--peer')
        return
        ;;
    '--log-level')
        __hark_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'
        return
        ;;
    '--log-format')
        __hark_add_completions -W 'auto'$'\n''text'$'\n''journal'$'\n''json'
        return
        ;;
    '--config')
        __hark_add_completions -o plusdirs -fX '!*.@(toml)'
        return
        ;;
    '--passphrase-file')
        __hark_add_completions -f
        return
        ;;
    '--auto-fetch-max')
        return
        ;;
    '--auto-fetch-dir')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_status() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_peers() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_peer() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hark_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    alias|forget|block|unblock)
        # Offer subcommand argument completions
        "_hark_peer_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'alias forget block unblock' -- "${cur}"))
        ;;
    esac
}

_hark_peer_alias() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion peer alias -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_peer_forget() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion peer forget -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_peer_block() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion peer block -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_peer_unblock() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion peer unblock -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hark_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|invite|join|requests|approve|refuse|accept|invites|list|members|remove|role|leave)
        # Offer subcommand argument completions
        "_hark_group_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create invite join requests approve refuse accept invites list members remove role leave' -- "${cur}"))
        ;;
    esac
}

_hark_group_create() {
    repeating_flags=()
    non_repeating_flags=(--channel --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --history)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--history')
        __hark_add_completions -W 'shared'$'\n''joined'
        return
        ;;
    esac
}

_hark_group_invite() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home --for --expires --uses)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--for')
        __hark_add_completions -W "$(__hark_custom_complete ---completion group invite -- --for "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    '--expires')
        return
        ;;
    '--uses')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group invite -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_join() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --timeout)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_hark_group_requests() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group requests -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_approve() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group approve -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_refuse() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group refuse -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_accept() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --timeout)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_hark_group_invites() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_group_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_group_members() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group members -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_remove() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group remove -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    2)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group remove -- positional@1 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_role() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group role -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    2)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group role -- positional@1 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_group_leave() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion group leave -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_send() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--peer)
    non_repeating_options=(--home --reply --wait --of --timeout --passphrase-file)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--reply')
        return
        ;;
    '--wait')
        __hark_add_completions -W 'delivered'$'\n''read'$'\n''settled'
        return
        ;;
    '--of')
        return
        ;;
    '--timeout')
        return
        ;;
    '--peer')
        return
        ;;
    '--passphrase-file')
        __hark_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion send -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_log() {
    repeating_flags=()
    non_repeating_flags=(--json --follow -f --ids --graph --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --limit -l --before --after)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--limit'|'-l')
        return
        ;;
    '--before')
        return
        ;;
    '--after')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion log -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_search() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --limit -l --before)
    __hark_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--limit'|'-l')
        return
        ;;
    '--before')
        return
        ;;
    esac
}

_hark_edit() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion edit -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_delete() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion delete -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_react() {
    repeating_flags=()
    non_repeating_flags=(--remove --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion react -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_read() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion read -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_watch() {
    repeating_flags=()
    non_repeating_flags=(--json --include-own --mentions --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --exec --exec-timeout)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--exec')
        return
        ;;
    '--exec-timeout')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion watch -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_chat() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home --history)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--history')
        return
        ;;
    esac
}

_hark_presence() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --status)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--status')
        return
        ;;
    esac
}

_hark_share() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --group -g -m --message)
    __hark_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--group'|'-g')
        __hark_add_completions -W "$(__hark_custom_complete ---completion share -- --group "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    '-m'|'--message')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __hark_add_completions -f
        return
        ;;
    esac
}

_hark_files() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion files -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_fetch() {
    repeating_flags=()
    non_repeating_flags=(--force --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home -o --timeout --limit-rate)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '-o')
        __hark_add_completions -d
        return
        ;;
    '--timeout')
        return
        ;;
    '--limit-rate')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion fetch -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_audit() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion audit -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_export() {
    repeating_flags=()
    non_repeating_flags=(--jsonl --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion export -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_import() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -f
        return
        ;;
    esac
}

_hark_doctor() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac
}

_hark_verify() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion verify -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_pair() {
    repeating_flags=()
    non_repeating_flags=(--accept --yes --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --code --timeout)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--code')
        return
        ;;
    '--timeout')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -W "$(__hark_custom_complete ---completion pair -- positional@0 "${COMP_CWORD}" "$(__hark_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_hark_key() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hark_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    export|import)
        # Offer subcommand argument completions
        "_hark_key_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'export import' -- "${cur}"))
        ;;
    esac
}

_hark_key_export() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--home --out --passphrase-file)
    __hark_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--out')
        __hark_add_completions -f
        return
        ;;
    '--passphrase-file')
        __hark_add_completions -f
        return
        ;;
    esac
}

_hark_key_import() {
    repeating_flags=()
    non_repeating_flags=(--passphrase --version -h --help)
    repeating_options=()
    non_repeating_options=(--home --passphrase-file)
    __hark_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--home')
        __hark_add_completions -d
        return
        ;;
    '--passphrase-file')
        __hark_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __hark_add_completions -o plusdirs -fX '!*.@(backup)'
        return
        ;;
    esac
}

_hark_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __hark_offer_flags_options -1
}

complete -o filenames -F _hark hark
