package io.istio4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Mixer image with a real container runtime, podman (Debian's, with runc), as an operator
 * would: loaded from the build's OCI tar, read-only root file system, config mounted read-only,
 * host network (this sandbox has no container networking), then a Check sent with bin/mixc.
 */
final class ImageRun {

  private final Path root;
  private final Path scratch;
  private final CustomMixerCheck shell;

  ImageRun(Path root, Path scratch, CustomMixerCheck shell) {
    this.root = root;
    this.scratch = scratch;
    this.shell = shell;
  }

  void run(Path tar, String image, Path config) throws Exception {
    CustomMixerCheck.Result which = shell.sh(scratch, "command -v podman && command -v runc");
    assertThat(which.exit()).as("podman and runc are needed to run the image: apt-get install podman runc "
        + "(.ci/run installs them)").isZero();
    // Own storage under the scratch directory; vfs and cgroupfs work in an unprivileged sandbox.
    // The runtime sets no rlimit above what this process has (the sandbox refuses raising them).
    // podman wants a run root shorter than 50 characters: one under /tmp.
    Path runRoot = Files.createTempDirectory(Path.of("/tmp"), "mixs-podman");
    String podman = "podman --root " + scratch.resolve("podman/root") + " --runroot " + runRoot
        + " --storage-driver=vfs --cgroup-manager=cgroupfs --events-backend=file";
    shell.ok(scratch, podman + " load -i " + tar);
    assertThat(shell.ok(scratch, podman + " image inspect --format '{{.Config.User}}' " + image).out().strip())
        .as("the image's user").isEqualTo("65532:65532");

    // Run as root, mixs in the image refuses to start.
    String limits = " --ulimit nofile=4096:4096 --ulimit nproc=4096:4096";
    CustomMixerCheck.Result asRoot = shell.sh(scratch, podman + " run --rm --network=host --user 0" + limits + " "
        + image + " inventory");
    assertThat(asRoot.exit()).as(asRoot.out()).isNotZero();
    assertThat(asRoot.out()).contains("mixs: refusing to run as root (uid 0)");

    int port = CustomMixerCheck.freePort();
    int monitoring = CustomMixerCheck.freePort();
    String name = "mixs-it-" + port;
    shell.ok(scratch, podman + " run -d --name " + name + " --network=host --read-only"
        + limits + " -v " + config + ":/etc/mixer/config:ro " + image
        + " server --configStoreURL=fs:///etc/mixer/config --port " + port + " --monitoringPort " + monitoring);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (CustomMixerCheck.httpStatus("http://127.0.0.1:" + monitoring + "/readyz") != 200) {
        String state = shell.sh(scratch, podman + " inspect --format '{{.State.Status}}' " + name).out().strip();
        assertThat(state).as("container state; logs:%n%s", shell.sh(scratch, podman + " logs " + name).out())
            .isEqualTo("running");
        assertThat(System.nanoTime()).as("mixs in the container ready within 120 s").isLessThan(deadline);
        Thread.sleep(200);
      }
      // The server process runs as the image's non-root user.
      String pid = shell.ok(scratch, podman + " inspect --format '{{.State.Pid}}' " + name).out().strip();
      String status = Files.readString(Path.of("/proc", pid, "status"));
      assertThat(status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow())
          .matches("Uid:\\s+65532\\s+65532.*");

      String mixc = root.resolve("bin/mixc").toString();
      // mixc exits 1 when the status is not OK.
      CustomMixerCheck.Result denied = shell.sh(scratch, mixc + " check -m localhost:" + port
          + " -s destination.service=ratings.default.svc.cluster.local"
          + " --stringmap_attributes request.headers=x-user:mallory");
      assertThat(denied.out()).contains("Check status was PERMISSION_DENIED (handler.denier.istio-system:Not allowed)");
      CustomMixerCheck.Result allowed = shell.ok(scratch, mixc + " check -m localhost:" + port
          + " -s destination.service=ratings.default.svc.cluster.local");
      assertThat(allowed.out()).contains("Check status was OK");
    } finally {
      shell.sh(scratch, podman + " rm -f -t 5 " + name);
      shell.sh(scratch, "rm -rf " + runRoot);
    }
  }
}
