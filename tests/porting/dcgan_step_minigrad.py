"""DCGAN-style training steps: a ConvTranspose2d/BatchNorm2d/ReLU/Tanh generator and a
Conv2d/LeakyReLU/Sigmoid discriminator, initialised with weights_init through
Module.apply, trained with BCELoss and two Adam optimisers (betas=(0.5, 0.999)): first
the discriminator on a real and a detached fake batch, then the generator.

The same file runs under `import torch` and `import minigrad as torch`; only the import
lines differ between the two copies in tests/porting/.
"""
import numpy as np
import minigrad as torch
import minigrad.nn as nn
import minigrad.optim as optim

nz = 8      # size of the latent vector
ngf = 8     # generator feature maps
ndf = 8     # discriminator feature maps
nc = 1      # image channels
real_label = 1.
fake_label = 0.


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # nz x 1 x 1 -> (ngf*2) x 4 x 4
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> ngf x 8 x 8
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # -> nc x 16 x 16
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # nc x 16 x 16 -> ndf x 8 x 8
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*2) x 4 x 4
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> 1 x 1 x 1
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


def build_models():
    netG = Generator()
    netG.apply(weights_init)
    netD = Discriminator()
    netD.apply(weights_init)
    return netG, netD


def make_data(steps=2, batch_size=4):
    torch.manual_seed(0)
    return {
        "real": torch.rand(steps, batch_size, nc, 16, 16) * 2 - 1,
        "noise": torch.randn(steps, batch_size, nz, 1, 1),
        "fixed_noise": torch.randn(2, nz, 1, 1),
    }


def run(state_dict=None, data=None):
    """One DCGAN iteration per batch of `data["real"]`; return the losses, D's outputs,
    the fakes, both networks' gradients after the last iteration and their final weights.
    `state_dict` is a checkpoint {"netG": ..., "netD": ...}."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if data is None:
        data = make_data()
    real_batches = torch.as_tensor(data["real"])
    noise_batches = torch.as_tensor(data["noise"])
    fixed_noise = torch.as_tensor(data["fixed_noise"]).to(device)

    netG, netD = build_models()
    if state_dict is not None:
        netG.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict["netG"].items()})
        netD.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict["netD"].items()})
    netG.to(device)
    netD.to(device)

    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

    G_losses, D_losses, D_x, D_G_z1, D_G_z2 = [], [], [], [], []
    for i in range(real_batches.size(0)):
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = real_batches[i].to(device)
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x.append(output.mean().item())

        noise = noise_batches[i].to(device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1.append(output.mean().item())
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) Update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2.append(output.mean().item())
        optimizerG.step()

        G_losses.append(errG.item())
        D_losses.append(errD.item())

    with torch.no_grad():
        fixed_fake = netG(fixed_noise).detach().cpu()

    return {
        "G_losses": np.array(G_losses),
        "D_losses": np.array(D_losses),
        "D_x": np.array(D_x),
        "D_G_z1": np.array(D_G_z1),
        "D_G_z2": np.array(D_G_z2),
        "last_fake": fake.detach(),
        "fixed_fake": fixed_fake,
        "label": label,
        "netG_grads": {name: p.grad for name, p in netG.named_parameters()},
        "netD_grads": {name: p.grad for name, p in netD.named_parameters()},
        "netG": netG.state_dict(),
        "netD": netD.state_dict(),
    }
