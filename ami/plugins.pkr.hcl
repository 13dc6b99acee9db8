# Packer >= 1.7 installs the amazon plugin from here (`packer init ami/`). Debian's packer 1.6.6,
# which CI uses for `packer validate ami/agent.pkr.hcl`, rejects this block, so it lives on its own.
packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
