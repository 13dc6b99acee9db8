# Packer (HCL2) template for an image with the agent baked in. Targets Packer >= 1.6.6 (Debian 12's,
# which CI uses for `packer validate`); newer Packer also wants plugins.pkr.hcl (`packer init ami/`).

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "base_ami_name" {
  type        = string
  default     = "debian-12-amd64-*"
  description = "Name filter of the base image; the newest match is used."
}

variable "base_ami_owner" {
  type        = string
  default     = "136693071363" # Debian's official AWS account
  description = "Account that publishes the base image."
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "artifact" {
  type        = string
  default     = "agent-0.1.0.tgz"
  description = "The agent tarball from `npm run package`."
}

variable "manifest_url" {
  type        = string
  default     = "agent@manifests.example.internal:/"
  description = "rsync source the image pulls from (rrsync roots it at /var/puppetdist)."
}

variable "manifest_host_key_file" {
  type        = string
  default     = "build/manifest_known_hosts"
  description = "The manifest server's host key line, as ami/manifest-server.sh prints it (pinned)."
}

variable "client_key_file" {
  type        = string
  default     = "build/agent_id_ed25519"
  description = "The restricted, read-only rsync key. Never committed; handed in by the build."
}

variable "release_public_key_file" {
  type        = string
  default     = "build/release.pub"
  description = "The publisher's public key (agent keygen): the image applies only releases it signed. The private key stays with the publisher."
}

variable "report_bucket" {
  type    = string
  default = "fleet-reports"
}

source "amazon-ebs" "agent" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = var.ssh_username
  ami_name      = "agent-{{timestamp}}"
  source_ami_filter {
    filters = {
      name                = var.base_ami_name
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = [var.base_ami_owner]
    most_recent = true
  }
  tags = {
    Name      = "agent"
    BaseImage = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.agent"]

  provisioner "file" {
    sources     = [var.artifact, "ami/install.sh", "ami/agent.yaml.template", var.manifest_host_key_file, var.client_key_file, var.release_public_key_file]
    destination = "/tmp/"
  }

  provisioner "shell" {
    execute_command = "sudo -E bash '{{ .Path }}'"
    inline = [
      "set -eu",
      "mkdir -p /tmp/agent-build && mv /tmp/install.sh /tmp/agent.yaml.template /tmp/agent-build/",
      "bash /tmp/agent-build/install.sh --artifact /tmp/$(basename ${var.artifact}) --manifest-url '${var.manifest_url}' --bucket '${var.report_bucket}' --region '${var.region}' --manifest-host-key /tmp/$(basename ${var.manifest_host_key_file}) --client-key /tmp/$(basename ${var.client_key_file}) --release-key /tmp/$(basename ${var.release_public_key_file})",
      "/usr/local/bin/agent config check >/dev/null",
      "shred -u /tmp/$(basename ${var.client_key_file}) && rm -rf /tmp/agent-build /tmp/*.tgz",
    ]
  }

  # Per-instance state must not be baked in: every instance launched from the image is a new host.
  provisioner "shell" {
    execute_command = "sudo -E bash '{{ .Path }}'"
    inline = [
      "set -eu",
      "systemctl stop agent.service || true",
      "rm -rf /var/lib/agent/* /var/puppetstage",
      "truncate -s 0 /etc/machine-id && rm -f /var/lib/dbus/machine-id",
      "rm -f /etc/ssh/ssh_host_*",
      "cloud-init clean --logs || true",
      # Packer's temporary key: a known way images leak access to every instance made from them
      "for f in /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys; do [ -f \"$f\" ] && sed -i '/packer/d' \"$f\" || true; done",
    ]
  }
}
