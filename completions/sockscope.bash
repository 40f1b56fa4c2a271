_sockscope() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    # After `state` or `exclude`, a filter takes a state's name only.
    case "${prev}" in
        state|exclude|excl)
            COMPREPLY=($(compgen -W "established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing bound-inactive all connected synchronized bucket big unconnected close" -- "${cur}"))
            compopt +o default +o bashdefault 2>/dev/null
            return 0
            ;;
    esac
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="sockscope"
                ;;
            sockscope,demo)
                cmd="sockscope__subcmd__demo"
                ;;
            sockscope,exporter)
                cmd="sockscope__subcmd__exporter"
                ;;
            sockscope,watch)
                cmd="sockscope__subcmd__watch"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        sockscope)
            opts="-a -l -B -4 -6 -t -u -w -M -S -d -x -0 -f -A -F -N -p -T -n -r -o -e -m -i -b -H -Q -O -Z -z -j -E -s -K -D -h -V --all --listening --bound-inactive --ipv4 --ipv6 --tcp --udp --raw --mptcp --sctp --dccp --unix --packet --vsock --tipc --xdp --family --socket --query --filter --net --all-netns --processes --threads --numeric --resolve --options --extended --memory --info --tos --bpf --cgroup --inet-sockopt --no-header --no-queues --oneline --context --contexts --tipcinfo --json --events --summary --kill --force --diag --from-dump --help --version established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing bound-inactive all connected synchronized bucket big unconnected close state exclude src dst sport dport dev fwmark cgroup autobound and or not demo watch exporter"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --family)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --query)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --socket)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -A)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --filter)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -F)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --net)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                -N)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                --diag)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -D)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --from-dump)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sockscope__subcmd__demo)
            opts="-j -h --port --udp --netns --no-netns --json --no-pause --pause --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sockscope__subcmd__exporter)
            opts="-a -l -B -4 -6 -t -u -w -M -S -d -x -0 -f -A -F -N -i -h --all --listening --bound-inactive --ipv4 --ipv6 --tcp --udp --raw --mptcp --sctp --dccp --unix --packet --vsock --tipc --xdp --family --socket --query --filter --net --all-netns --info --listen --once --textfile --max-series --reconcile --help established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing bound-inactive all connected synchronized bucket big unconnected close state exclude src dst sport dport dev fwmark cgroup autobound and or not"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --family)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --query)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --socket)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -A)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --filter)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -F)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --net)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                -N)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --textfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-series)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --reconcile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sockscope__subcmd__watch)
            opts="-a -l -B -4 -6 -t -u -w -M -S -d -x -0 -f -A -F -N -p -T -n -r -o -e -m -i -b -h --all --listening --bound-inactive --ipv4 --ipv6 --tcp --udp --raw --mptcp --sctp --dccp --unix --packet --vsock --tipc --xdp --family --socket --query --filter --net --all-netns --processes --threads --numeric --resolve --options --extended --memory --info --tos --bpf --cgroup --inet-sockopt --interval --count --jsonl --source --help established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing bound-inactive all connected synchronized bucket big unconnected close state exclude src dst sport dport dev fwmark cgroup autobound and or not"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --family)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -W "unix inet inet6 link netlink vsock tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --query)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --socket)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                -A)
                    COMPREPLY=($(compgen -W "all inet tcp udp raw unix unix_stream unix_dgram unix_seqpacket packet packet_raw packet_dgram netlink mptcp dccp sctp vsock vsock_stream vsock_dgram tipc xdp" -- "${cur}"))
                    return 0
                    ;;
                --filter)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -F)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --net)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                -N)
                    COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); [[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))
                    return 0
                    ;;
                --interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source)
                    COMPREPLY=($(compgen -W "auto events poll" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _sockscope -o nosort -o bashdefault -o default sockscope
else
    complete -F _sockscope -o bashdefault -o default sockscope
fi
