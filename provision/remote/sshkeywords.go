package remote

import "strings"

// The keywords of ssh_config(5) that OpenSSH 9 accepts (deprecated ones included: ssh warns and goes on), as
// written in its manual. A keyword outside this list (and outside IgnoreUnknown) makes ssh refuse the file, so
// fleetctl refuses it too, rather than guess.
var sshKeywordNames = strings.Fields(`
AddKeysToAgent AddressFamily BatchMode BindAddress BindInterface CanonicalDomains CanonicalizeFallbackLocal
CanonicalizeHostname CanonicalizeMaxDots CanonicalizePermittedCNAMEs CASignatureAlgorithms CertificateFile
ChallengeResponseAuthentication ChannelTimeout CheckHostIP Cipher Ciphers ClearAllForwardings Compression
CompressionLevel ConnectionAttempts ConnectTimeout ControlMaster ControlPath ControlPersist DynamicForward
EnableEscapeCommandline EnableSSHKeysign EscapeChar ExitOnForwardFailure FingerprintHash ForkAfterAuthentication
ForwardAgent ForwardX11 ForwardX11Timeout ForwardX11Trusted GatewayPorts GlobalKnownHostsFile GSSAPIAuthentication
GSSAPIClientIdentity GSSAPIDelegateCredentials GSSAPIKeyExchange GSSAPIRenewalForcesRekey GSSAPIServerIdentity
GSSAPITrustDns GSSAPIKexAlgorithms HashKnownHosts Host HostbasedAcceptedAlgorithms HostbasedAuthentication
HostbasedKeyTypes HostKeyAlgorithms HostKeyAlias Hostname IdentitiesOnly IdentityAgent IdentityFile IgnoreUnknown
Include IPQoS KbdInteractiveAuthentication KbdInteractiveDevices KexAlgorithms KnownHostsCommand LocalCommand
LocalForward LogLevel LogVerbose MACs Match NoHostAuthenticationForLocalhost NumberOfPasswordPrompts
ObscureKeystrokeTiming PasswordAuthentication PermitLocalCommand PermitRemoteOpen PKCS11Provider Port
PreferredAuthentications Protocol ProxyCommand ProxyJump ProxyUseFdpass PubkeyAcceptedAlgorithms
PubkeyAcceptedKeyTypes PubkeyAuthentication RekeyLimit RemoteCommand RemoteForward RequestTTY RequiredRSASize
RevokedHostKeys SecurityKeyProvider SendEnv ServerAliveCountMax ServerAliveInterval SessionType SetEnv
SmartcardDevice StdinNull StreamLocalBindMask StreamLocalBindUnlink StrictHostKeyChecking Tag TCPKeepAlive Tunnel
TunnelDevice UpdateHostKeys UseBlacklistedKeys UseKeychain UsePrivilegedPort User UserKnownHostsFile
VerifyHostKeyDNS VisualHostKey XAuthLocation
Cipher RhostsRSAAuthentication RSAAuthentication UseRoaming CompressionLevel FallBackToRsh UseRsh
`)

// sshKeywords are the keywords in lowercase (ssh matches them ignoring case); displayKeyword spells each as the
// manual does, for suggestions.
var sshKeywords, displayKeyword = func() ([]string, map[string]string) {
	var low []string
	disp := map[string]string{}
	for _, k := range sshKeywordNames {
		l := strings.ToLower(k)
		if _, ok := disp[l]; !ok {
			low = append(low, l)
			disp[l] = k
		}
	}
	disp["hostname"] = "HostName"
	return low, disp
}()
