# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sockscope_global_optspecs
    string join \n n/numeric r/resolve a/all l/listening B/bound-inactive H/no-header o/options e/extended m/memory i/info O/oneline tos b/bpf Z/context z/contexts tipcinfo cgroup inet-sockopt p/processes T/threads j/json E/events s/summary 4/ipv4 6/ipv6 t/tcp u/udp w/raw K/kill force M/mptcp S/sctp d/dccp x/unix 0/packet vsock tipc xdp f/family= A/query= F/filter= N/net= all-netns D/diag= from-dump= h/help V/version
end

function __fish_sockscope_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sockscope_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sockscope_using_subcommand
    set -l cmd (__fish_sockscope_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sockscope -n "__fish_sockscope_needs_command" -s f -l family -d 'Show sockets of an address family; may be repeated' -r -f -a "unix\t'Unix domain sockets'
inet\t'IPv4 sockets'
inet6\t'IPv6 sockets'
link\t'Packet sockets (AF_PACKET)'
netlink\t'Netlink sockets'
vsock\t'Virtual machine sockets (AF_VSOCK)'
tipc\t'TIPC sockets'
xdp\t'XDP sockets'"
complete -c sockscope -n "__fish_sockscope_needs_command" -s A -l query -l socket -d 'The socket tables to list, separated by commas; a leading ! removes a table' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -s F -l filter -d 'Read the filter from FILE (- for standard input), one or more words per line' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -s N -l net -d 'Run in network namespace NAME: one under /run/netns (as ip netns add makes them), or, when NAME holds a /, any namespace file, such as /proc/PID/ns/net' -r
complete -c sockscope -n "__fish_sockscope_needs_command" -s D -l diag -d 'Do not list: write the kernel\'s raw replies for the TCP table to FILE (- for standard output), as ss -D does' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -l from-dump -d 'List the TCP sockets of a dump written by -D (by sockscope or by ss) instead of asking the kernel; - reads standard input' -r -F
complete -c sockscope -n "__fish_sockscope_needs_command" -s n -l numeric -d 'Show service ports as numbers instead of names from /etc/services'
complete -c sockscope -n "__fish_sockscope_needs_command" -s r -l resolve -d 'Show host names instead of addresses, by reverse lookup'
complete -c sockscope -n "__fish_sockscope_needs_command" -s a -l all -d 'Show sockets in every state, listening ones included'
complete -c sockscope -n "__fish_sockscope_needs_command" -s l -l listening -d 'Show only listening sockets (and, for datagram tables, unconnected ones)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s B -l bound-inactive -d 'Show only TCP sockets that are bound but neither listening nor connected'
complete -c sockscope -n "__fish_sockscope_needs_command" -s H -l no-header -d 'Do not print the header line'
complete -c sockscope -n "__fish_sockscope_needs_command" -s o -l options -d 'Show timers: which one runs (on, keepalive, timewait, persist), when it fires, and how many retransmissions it has seen; with -i also the TCP options in use (ts, sack, ecn)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s e -l extended -d 'Show details (and, as with -o, timers): owning uid (when not root), inode, socket cookie (sk:), fwmark, cgroup, v6only and which directions are shut down (<-> both open, --> no more receiving, <-- no more sending, --- neither); for unix sockets the file\'s inode and device and a listener\'s waiting peers'
complete -c sockscope -n "__fish_sockscope_needs_command" -s m -l memory -d 'Show memory use: skmem:(r,rb,t,tb,f,w,o,bl,d) = memory used and allowed for receiving, sending, forward allocation, queued for sending, options, backlog, and packets dropped'
complete -c sockscope -n "__fish_sockscope_needs_command" -s i -l info -d 'Show TCP\'s internals from tcp_info: options, congestion control, RTT, windows, byte and segment counts, rates (human-readable unless -n) and more'
complete -c sockscope -n "__fish_sockscope_needs_command" -s O -l oneline -d 'Print each socket\'s details on its line instead of on indented lines below it'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tos -d 'Show the IPv4 type of service, the IPv6 traffic class and the net_cls class id (or the SO_PRIORITY when there is none)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s b -l bpf -d 'Show the classic BPF filter attached to each packet socket, one instruction at a time (code jt jf k)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s Z -l context -d 'Show the SELinux security context of the processes (-p) holding each socket'
complete -c sockscope -n "__fish_sockscope_needs_command" -s z -l contexts -d 'Like -Z, with the sockets\' own contexts too'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tipcinfo -d 'Show TIPC socket details; TIPC sockets are not decoded yet, so this changes nothing'
complete -c sockscope -n "__fish_sockscope_needs_command" -l cgroup -d 'Show the cgroup v2 the socket belongs to'
complete -c sockscope -n "__fish_sockscope_needs_command" -l inet-sockopt -d 'Show the inet socket options the kernel reports (recverr, freebind, transparent, ...)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s p -l processes -d 'Show the processes that hold each socket: name, pid and file descriptor'
complete -c sockscope -n "__fish_sockscope_needs_command" -s T -l threads -d 'Like -p, with each thread of a process listed as an owner of its own (tid=)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s j -l json -d 'Print the sockets as a JSON array of records instead of a table'
complete -c sockscope -n "__fish_sockscope_needs_command" -s E -l events -d 'Print TCP and UDP sockets as the kernel destroys them, until interrupted'
complete -c sockscope -n "__fish_sockscope_needs_command" -s s -l summary -d 'Show how many sockets there are, from the kernel\'s counters, without listing any'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 4 -l ipv4 -d 'Show only IPv4 sockets (the same as -f inet)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 6 -l ipv6 -d 'Show only IPv6 sockets (the same as -f inet6)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s w -l raw -d 'Show raw sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s K -l kill -d 'Close the sockets that match, and list those closed (TCP, UDP and raw; needs CAP_NET_ADMIN)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l force -d 'With -K, close every socket listed even when no filter expression narrows them down'
complete -c sockscope -n "__fish_sockscope_needs_command" -s M -l mptcp -d 'Show MPTCP sockets'
complete -c sockscope -n "__fish_sockscope_needs_command" -s S -l sctp -d 'Show SCTP sockets (the kernel lists them only with its sctp_diag module)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s d -l dccp -d 'Show DCCP sockets (the kernel lists them only with its dccp_diag module)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s x -l unix -d 'Show unix domain sockets (the same as -f unix)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s 0 -l packet -d 'Show packet sockets (the same as -f link)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l vsock -d 'Show vsock sockets (the same as -f vsock)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l tipc -d 'Show TIPC sockets (the same as -f tipc)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l xdp -d 'Show XDP sockets (the same as -f xdp)'
complete -c sockscope -n "__fish_sockscope_needs_command" -l all-netns -d 'List the sockets of every network namespace, with a Netns column (a netns field in JSON)'
complete -c sockscope -n "__fish_sockscope_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_needs_command" -s V -l version -d 'Print version'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "demo" -d 'Build a TCP connection one system call at a time and show the kernel\'s view after each'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "watch" -d 'Follow sockets over time: see them arrive, change state, fill their queues and go away'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "exporter" -d 'Answer Prometheus scrapes with socket metrics: counts per table and state, listeners\' accept queues against their backlogs, connections per port'
complete -c sockscope -n "__fish_sockscope_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -l port -d 'The server\'s port (0 lets the kernel pick a free one)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -l udp -d 'Walk through a UDP exchange instead: bound, connected, a datagram waiting'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -l netns -d 'Run in a private network namespace, so nothing else appears (needs root)'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -s j -l json -d 'Print each stage as one JSON object per line, with the same socket records as --json'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -l no-pause -d 'Do not wait between stages (the default when not on a terminal)'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -l pause -d 'Wait between stages even when not on a terminal, for a line on standard input (q quits)'
complete -c sockscope -n "__fish_sockscope_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l interval -d 'Seconds between two looks at the table (fractions allowed, at least 0.01)' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l count -d 'Stop after N intervals' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s f -l family -d 'Show sockets of an address family; may be repeated' -r -f -a "unix\t'Unix domain sockets'
inet\t'IPv4 sockets'
inet6\t'IPv6 sockets'
link\t'Packet sockets (AF_PACKET)'
netlink\t'Netlink sockets'
vsock\t'Virtual machine sockets (AF_VSOCK)'
tipc\t'TIPC sockets'
xdp\t'XDP sockets'"
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s A -l query -l socket -d 'The socket tables to list, separated by commas; a leading ! removes a table' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s F -l filter -d 'Read the filter from FILE (- for standard input), one or more words per line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s N -l net -d 'Run in network namespace NAME: one under /run/netns (as ip netns add makes them), or, when NAME holds a /, any namespace file, such as /proc/PID/ns/net' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s D -l diag -d 'Do not list: write the kernel\'s raw replies for the TCP table to FILE (- for standard output), as ss -D does' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l from-dump -d 'List the TCP sockets of a dump written by -D (by sockscope or by ss) instead of asking the kernel; - reads standard input' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l jsonl -d 'Print JSON lines even on a terminal (the default elsewhere)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s n -l numeric -d 'Show service ports as numbers instead of names from /etc/services'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s r -l resolve -d 'Show host names instead of addresses, by reverse lookup'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s a -l all -d 'Show sockets in every state, listening ones included'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s l -l listening -d 'Show only listening sockets (and, for datagram tables, unconnected ones)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s B -l bound-inactive -d 'Show only TCP sockets that are bound but neither listening nor connected'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s H -l no-header -d 'Do not print the header line'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s o -l options -d 'Show timers: which one runs (on, keepalive, timewait, persist), when it fires, and how many retransmissions it has seen; with -i also the TCP options in use (ts, sack, ecn)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s e -l extended -d 'Show details (and, as with -o, timers): owning uid (when not root), inode, socket cookie (sk:), fwmark, cgroup, v6only and which directions are shut down (<-> both open, --> no more receiving, <-- no more sending, --- neither); for unix sockets the file\'s inode and device and a listener\'s waiting peers'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s m -l memory -d 'Show memory use: skmem:(r,rb,t,tb,f,w,o,bl,d) = memory used and allowed for receiving, sending, forward allocation, queued for sending, options, backlog, and packets dropped'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s i -l info -d 'Show TCP\'s internals from tcp_info: options, congestion control, RTT, windows, byte and segment counts, rates (human-readable unless -n) and more'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s O -l oneline -d 'Print each socket\'s details on its line instead of on indented lines below it'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l tos -d 'Show the IPv4 type of service, the IPv6 traffic class and the net_cls class id (or the SO_PRIORITY when there is none)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s b -l bpf -d 'Show the classic BPF filter attached to each packet socket, one instruction at a time (code jt jf k)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s Z -l context -d 'Show the SELinux security context of the processes (-p) holding each socket'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s z -l contexts -d 'Like -Z, with the sockets\' own contexts too'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l tipcinfo -d 'Show TIPC socket details; TIPC sockets are not decoded yet, so this changes nothing'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l cgroup -d 'Show the cgroup v2 the socket belongs to'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l inet-sockopt -d 'Show the inet socket options the kernel reports (recverr, freebind, transparent, ...)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s p -l processes -d 'Show the processes that hold each socket: name, pid and file descriptor'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s T -l threads -d 'Like -p, with each thread of a process listed as an owner of its own (tid=)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s j -l json -d 'Print the sockets as a JSON array of records instead of a table'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s E -l events -d 'Print TCP and UDP sockets as the kernel destroys them, until interrupted'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s s -l summary -d 'Show how many sockets there are, from the kernel\'s counters, without listing any'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 4 -l ipv4 -d 'Show only IPv4 sockets (the same as -f inet)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 6 -l ipv6 -d 'Show only IPv6 sockets (the same as -f inet6)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s w -l raw -d 'Show raw sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s K -l kill -d 'Close the sockets that match, and list those closed (TCP, UDP and raw; needs CAP_NET_ADMIN)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l force -d 'With -K, close every socket listed even when no filter expression narrows them down'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s M -l mptcp -d 'Show MPTCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s S -l sctp -d 'Show SCTP sockets (the kernel lists them only with its sctp_diag module)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s d -l dccp -d 'Show DCCP sockets (the kernel lists them only with its dccp_diag module)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s x -l unix -d 'Show unix domain sockets (the same as -f unix)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s 0 -l packet -d 'Show packet sockets (the same as -f link)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l vsock -d 'Show vsock sockets (the same as -f vsock)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l tipc -d 'Show TIPC sockets (the same as -f tipc)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l xdp -d 'Show XDP sockets (the same as -f xdp)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -l all-netns -d 'List the sockets of every network namespace, with a Netns column (a netns field in JSON)'
complete -c sockscope -n "__fish_sockscope_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l listen -d 'The address and port to answer scrapes on' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l textfile -d 'Write the metrics once to PATH for node_exporter\'s textfile collector, and exit' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l max-series -d 'The most series one metric family shows per namespace; the rest are added up in series labelled port="other"' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s f -l family -d 'Show sockets of an address family; may be repeated' -r -f -a "unix\t'Unix domain sockets'
inet\t'IPv4 sockets'
inet6\t'IPv6 sockets'
link\t'Packet sockets (AF_PACKET)'
netlink\t'Netlink sockets'
vsock\t'Virtual machine sockets (AF_VSOCK)'
tipc\t'TIPC sockets'
xdp\t'XDP sockets'"
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s A -l query -l socket -d 'The socket tables to list, separated by commas; a leading ! removes a table' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s F -l filter -d 'Read the filter from FILE (- for standard input), one or more words per line' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s N -l net -d 'Run in network namespace NAME: one under /run/netns (as ip netns add makes them), or, when NAME holds a /, any namespace file, such as /proc/PID/ns/net' -r
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s D -l diag -d 'Do not list: write the kernel\'s raw replies for the TCP table to FILE (- for standard output), as ss -D does' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l from-dump -d 'List the TCP sockets of a dump written by -D (by sockscope or by ss) instead of asking the kernel; - reads standard input' -r -F
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l once -d 'Print the metrics once on standard output, in the Prometheus text format, and exit'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s n -l numeric -d 'Show service ports as numbers instead of names from /etc/services'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s r -l resolve -d 'Show host names instead of addresses, by reverse lookup'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s a -l all -d 'Show sockets in every state, listening ones included'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s l -l listening -d 'Show only listening sockets (and, for datagram tables, unconnected ones)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s B -l bound-inactive -d 'Show only TCP sockets that are bound but neither listening nor connected'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s H -l no-header -d 'Do not print the header line'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s o -l options -d 'Show timers: which one runs (on, keepalive, timewait, persist), when it fires, and how many retransmissions it has seen; with -i also the TCP options in use (ts, sack, ecn)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s e -l extended -d 'Show details (and, as with -o, timers): owning uid (when not root), inode, socket cookie (sk:), fwmark, cgroup, v6only and which directions are shut down (<-> both open, --> no more receiving, <-- no more sending, --- neither); for unix sockets the file\'s inode and device and a listener\'s waiting peers'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s m -l memory -d 'Show memory use: skmem:(r,rb,t,tb,f,w,o,bl,d) = memory used and allowed for receiving, sending, forward allocation, queued for sending, options, backlog, and packets dropped'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s i -l info -d 'Show TCP\'s internals from tcp_info: options, congestion control, RTT, windows, byte and segment counts, rates (human-readable unless -n) and more'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s O -l oneline -d 'Print each socket\'s details on its line instead of on indented lines below it'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l tos -d 'Show the IPv4 type of service, the IPv6 traffic class and the net_cls class id (or the SO_PRIORITY when there is none)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s b -l bpf -d 'Show the classic BPF filter attached to each packet socket, one instruction at a time (code jt jf k)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s Z -l context -d 'Show the SELinux security context of the processes (-p) holding each socket'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s z -l contexts -d 'Like -Z, with the sockets\' own contexts too'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l tipcinfo -d 'Show TIPC socket details; TIPC sockets are not decoded yet, so this changes nothing'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l cgroup -d 'Show the cgroup v2 the socket belongs to'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l inet-sockopt -d 'Show the inet socket options the kernel reports (recverr, freebind, transparent, ...)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s p -l processes -d 'Show the processes that hold each socket: name, pid and file descriptor'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s T -l threads -d 'Like -p, with each thread of a process listed as an owner of its own (tid=)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s j -l json -d 'Print the sockets as a JSON array of records instead of a table'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s E -l events -d 'Print TCP and UDP sockets as the kernel destroys them, until interrupted'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s s -l summary -d 'Show how many sockets there are, from the kernel\'s counters, without listing any'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s 4 -l ipv4 -d 'Show only IPv4 sockets (the same as -f inet)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s 6 -l ipv6 -d 'Show only IPv6 sockets (the same as -f inet6)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s t -l tcp -d 'Show TCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s u -l udp -d 'Show UDP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s w -l raw -d 'Show raw sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s K -l kill -d 'Close the sockets that match, and list those closed (TCP, UDP and raw; needs CAP_NET_ADMIN)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l force -d 'With -K, close every socket listed even when no filter expression narrows them down'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s M -l mptcp -d 'Show MPTCP sockets'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s S -l sctp -d 'Show SCTP sockets (the kernel lists them only with its sctp_diag module)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s d -l dccp -d 'Show DCCP sockets (the kernel lists them only with its dccp_diag module)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s x -l unix -d 'Show unix domain sockets (the same as -f unix)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s 0 -l packet -d 'Show packet sockets (the same as -f link)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l vsock -d 'Show vsock sockets (the same as -f vsock)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l tipc -d 'Show TIPC sockets (the same as -f tipc)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l xdp -d 'Show XDP sockets (the same as -f xdp)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -l all-netns -d 'List the sockets of every network namespace, with a Netns column (a netns field in JSON)'
complete -c sockscope -n "__fish_sockscope_using_subcommand exporter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from demo watch exporter help" -f -a "demo" -d 'Build a TCP connection one system call at a time and show the kernel\'s view after each'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from demo watch exporter help" -f -a "watch" -d 'Follow sockets over time: see them arrive, change state, fill their queues and go away'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from demo watch exporter help" -f -a "exporter" -d 'Answer Prometheus scrapes with socket metrics: counts per table and state, listeners\' accept queues against their backlogs, connections per port'
complete -c sockscope -n "__fish_sockscope_using_subcommand help; and not __fish_seen_subcommand_from demo watch exporter help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
