// Where each platform keeps kubelet credential providers (ecosystem.md A.2), as data: the bin dir
// the kubelet execs providers from, its CredentialProviderConfig, where credmux's own config goes,
// and whether the platform passes the two kubelet flags itself. `credmux install` reads only this.

/** The platforms `credmux install --profile` knows. */
export const PROFILE_NAMES = ["eks", "k3s", "rke2", "kubeadm", "aks", "gke", "kops", "custom"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Where one platform's kubelet finds credential providers, and what its operator must know. */
export interface InstallProfile {
  name: ProfileName;
  /** The platform, for people. */
  platform: string;
  /** --image-credential-provider-bin-dir: the executable goes here, named after its kubelet entry. */
  binDir: string;
  /** --image-credential-provider-config: merged, every other provider kept. */
  kubeletConfig: string;
  /** The directory of credmux's config, installed there as config.json. */
  credmuxConfigDir: string;
  /** Who passes the kubelet flags for these paths; absent when the operator must. */
  flagsSetBy?: string;
  /** What makes the kubelet read a changed kubelet config (it reads it at start only). */
  restart: string;
  /** Where an operator sets the flags, for platforms that do not. */
  flagsWhere?: string;
  /** What else an operator must know on this platform. */
  notes: readonly string[];
  /** Where the paths come from. */
  source: string;
}

/** The profiles, by name. `custom` takes its paths from CREDMUX_INSTALL_* (see installProfile). */
export const INSTALL_PROFILES: Readonly<Record<ProfileName, InstallProfile>> = {
  eks: {
    name: "eks",
    platform: "Amazon EKS (AL2023 nodeadm, AL2 bootstrap.sh)",
    binDir: "/etc/eks/image-credential-provider",
    kubeletConfig: "/etc/eks/image-credential-provider/config.json",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "nodeadm (AL2023) and the AL2 kubelet unit",
    restart: "systemctl restart kubelet",
    notes: [
      "nodeadm writes config.json when it initialises the node: bake credmux into the AMI after that step, or run the DaemonSet (config/daemonset.yaml), which merges again after every boot",
      "the ecr-credential-provider entry is kept; credmux's own ecr provider can replace it",
    ],
    source: "awslabs/amazon-eks-ami nodeadm/internal/kubelet/image-credential-provider.go",
  },
  k3s: {
    name: "k3s",
    platform: "k3s",
    binDir: "/var/lib/rancher/credentialprovider/bin",
    kubeletConfig: "/var/lib/rancher/credentialprovider/config.yaml",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "the k3s agent, once both default paths exist",
    restart: "systemctl restart k3s-agent (k3s on a server node)",
    notes: ["k3s passes the flags only when the bin dir and the config both exist when it starts: restart it after the first install"],
    source: "k3s-io/k3s pkg/cli/cmds/agent.go",
  },
  rke2: {
    name: "rke2",
    platform: "RKE2",
    binDir: "/var/lib/rancher/credentialprovider/bin",
    kubeletConfig: "/var/lib/rancher/credentialprovider/config.yaml",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "the rke2 agent, once both default paths exist",
    restart: "systemctl restart rke2-agent (rke2-server on a server node)",
    notes: ["rke2 passes the flags only when the bin dir and the config both exist when it starts: restart it after the first install"],
    source: "rancher/rke2 pkg/cli/cmds/agent.go",
  },
  kubeadm: {
    name: "kubeadm",
    platform: "kubeadm (the Cluster API layout)",
    binDir: "/etc/kubernetes/image-credential-provider",
    kubeletConfig: "/etc/kubernetes/image-credential-provider-config.yaml",
    credmuxConfigDir: "/etc/credmux",
    restart: "systemctl daemon-reload && systemctl restart kubelet",
    flagsWhere: "KUBELET_EXTRA_ARGS in /etc/default/kubelet (deb) or /etc/sysconfig/kubelet (rpm), or nodeRegistration.kubeletExtraArgs of the kubeadm config",
    notes: [],
    source: "nutanix-cloud-native/cluster-api-runtime-extensions-nutanix (kubeadm has no default)",
  },
  aks: {
    name: "aks",
    platform: "Azure AKS",
    binDir: "/var/lib/kubelet/credential-provider",
    kubeletConfig: "/var/lib/kubelet/credential-provider-config.yaml",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "the AKS node bootstrapper (KUBELET_FLAGS)",
    restart: "systemctl restart kubelet",
    notes: ["the acr-credential-provider entry is kept"],
    source: "Azure/AgentBaker",
  },
  gke: {
    name: "gke",
    platform: "Google GKE",
    binDir: "/home/kubernetes/bin",
    kubeletConfig: "/etc/srv/kubernetes/cri_auth_config.yaml",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "the GKE node image",
    restart: "systemctl restart kubelet",
    notes: ["the auth-provider-gcp entry is kept", "on Container-Optimized OS /etc is rebuilt at boot: run the DaemonSet (config/daemonset.yaml), which installs again after every boot"],
    source: "jfrog/jfrog-credentials-provider helm/templates/configmap-setup.yaml",
  },
  kops: {
    name: "kops",
    platform: "kOps (Ubuntu, Debian, AL2023 images)",
    binDir: "/usr/local/bin",
    kubeletConfig: "/var/lib/kubelet/credential-provider.conf",
    credmuxConfigDir: "/etc/credmux",
    flagsSetBy: "nodeup, on AWS and GCE clusters",
    restart: "systemctl restart kubelet",
    notes: ["Flatcar nodes use /opt/kubernetes/bin and COS nodes /home/kubernetes/bin: use --profile custom with CREDMUX_INSTALL_BIN_DIR there", "on clouds other than AWS and GCE, nodeup sets no flags: add them through the cluster spec's kubelet settings"],
    source: "kubernetes/kops nodeup/pkg/model/kubelet.go",
  },
  custom: {
    name: "custom",
    platform: "any other node (paths from CREDMUX_INSTALL_BIN_DIR, CREDMUX_INSTALL_KUBELET_CONFIG, CREDMUX_INSTALL_CONFIG_DIR)",
    binDir: "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec",
    kubeletConfig: "/etc/kubernetes/credential-provider-config.yaml",
    credmuxConfigDir: "/etc/credmux",
    restart: "systemctl restart kubelet",
    flagsWhere: "wherever the node's kubelet takes its flags",
    notes: [],
    source: "the FlexVolume-style layout a few projects use; upstream has no default",
  },
};

/** The profile `name`; for `custom`, with the paths the environment overrides. undefined for an unknown name. */
export function installProfile(name: string, env: Readonly<Record<string, string | undefined>>): InstallProfile | undefined {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) return undefined;
  const profile = INSTALL_PROFILES[name as ProfileName];
  if (profile.name !== "custom") return profile;
  return {
    ...profile,
    binDir: env.CREDMUX_INSTALL_BIN_DIR || profile.binDir,
    kubeletConfig: env.CREDMUX_INSTALL_KUBELET_CONFIG || profile.kubeletConfig,
    credmuxConfigDir: env.CREDMUX_INSTALL_CONFIG_DIR || profile.credmuxConfigDir,
  };
}

/** The two kubelet flags for a profile's paths. */
export function kubeletFlags(profile: InstallProfile): string[] {
  return [`--image-credential-provider-config=${profile.kubeletConfig}`, `--image-credential-provider-bin-dir=${profile.binDir}`];
}
