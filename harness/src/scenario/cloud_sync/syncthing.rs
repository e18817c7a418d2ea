//! `syncthing`: a folder-sync daemon. Two instances of Debian's `syncthing` on
//! 127.0.0.1, each with its own home (keys, config, database) in the target's private
//! directory: `send` watches the folder exports go to (send-only), `receive` holds the
//! remote copy (receive-only).
//!
//! Each home gets a `config.xml` written here before the daemon first starts, so that
//! nothing ever listens beyond loopback or calls out: the GUI/REST API on a loopback
//! port with a random API key, one listen address `tcp://127.0.0.1:PORT`, global and
//! local discovery, relays, NAT traversal, usage and crash reporting off. Syncthing
//! generates the device keys at first start and migrates the config to its own version
//! (the file says version 30, which every Syncthing since 1.2 reads; versions 31 and up
//! only touch folders and devices, of which it has none). The options are read back
//! through the REST API and checked before any device is introduced. The two devices
//! are then introduced to each other, with their loopback addresses, and the folder is
//! shared, through the REST config endpoints (`POST /rest/config/devices`,
//! `/rest/config/folders`, which fill in the defaults of anything not given).
//!
//! The folder's watcher waits 1 s after a change before it scans (Syncthing's default is
//! 10 s): desktop cloud clients start uploading within a second or so, and with 10 s a
//! short export would be over before the daemon looked at it.
//!
//! Busy: the sender's `/rest/db/completion` for the receiving device is below 100 % or
//! still needs items or deletes. Bytes: the sender's `/rest/system/connections` totals,
//! in and out (file data, index exchange and protocol).

use super::daemon::{self, SyncDaemon};
use super::http::Api;
use crate::target::guard::Guard;
use crate::target::{private_dir, tools, TargetError};
use anyhow::Context as _;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "syncthing";
/// The shared folder's id on both devices.
const FOLDER: &str = "cellucid-export";
/// Seconds the watcher gathers changes before a scan (see the module doc).
const WATCH_DELAY_S: u32 = 1;
/// How long a refused rescan request is repeated (see `rescan`).
const RESCAN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
/// The folder marker Syncthing requires in a folder's root before it syncs it.
const MARKER: &str = ".stfolder";

/// One Syncthing instance.
struct Instance {
    api: Api,
    id: String,
    folder: PathBuf,
    listen_port: u16,
}

/// The two instances and their private directory.
pub struct Syncthing {
    guard: Guard,
    version: String,
    send: Instance,
    receive: Instance,
    unwatched: PathBuf,
}

/// Starts both instances, introduces them and shares the folder; `Skipped` without
/// the `syncthing` executable.
pub fn start(work_dir: &Path) -> Result<Syncthing, TargetError> {
    let exe = tools::require(TARGET, "syncthing", "syncthing")?;
    let guard = Guard::new();
    let dir = private_dir(&guard, TARGET, work_dir)?;
    let version = daemon::version(TARGET, &exe)?;
    let [unwatched] = daemon::make_dirs(TARGET, &dir, ["unwatched"])?;
    let send = launch(&guard, &exe, &dir, "send")?;
    let receive = launch(&guard, &exe, &dir, "receive")?;
    introduce(&send, &receive, "sendonly")?;
    introduce(&receive, &send, "receiveonly")?;
    let connected = || {
        send.api.get("/rest/system/connections").is_ok_and(|c| c["connections"][&receive.id]["connected"] == json!(true))
    };
    wait(&send, "connect to the receiving instance", connected)?;
    for side in [&send, &receive] {
        let idle = || side.api.get(&format!("/rest/db/status?folder={FOLDER}")).is_ok_and(|s| s["state"] == "idle");
        wait(side, "folder idle", idle)?;
    }
    Ok(Syncthing { guard, version, send, receive, unwatched })
}

/// Writes the instance's home and folder, starts it and waits for its API.
fn launch(guard: &Guard, exe: &Path, dir: &Path, role: &str) -> Result<Instance, TargetError> {
    let [home, folder] = daemon::make_dirs(TARGET, dir, [format!("{role}-home").as_str(), role])?;
    daemon::make_dirs(TARGET, &folder, [MARKER])?;
    let gui_port = daemon::free_port(TARGET)?;
    let listen_port = daemon::free_port(TARGET)?;
    let key = daemon::random_hex(TARGET, 16)?;
    std::fs::write(home.join("config.xml"), config_xml(gui_port, listen_port, &key))
        .map_err(|e| tools::io_failed(TARGET, "config.xml", e))?;
    let log = home.join("syncthing.log");
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--home={}", home.display()))
        .arg("--no-browser")
        // Not restarted by its monitor process (both are in the daemon's process group,
        // which teardown signals), no upgrade check, no default folder, and nothing in
        // the user's home.
        .env("STNORESTART", "1")
        .env("STNOUPGRADE", "1")
        .env("STNODEFAULTFOLDER", "1")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"));
    let daemon_name = format!("syncthing-{role}");
    let pid = daemon::spawn(guard, TARGET, &daemon_name, &mut cmd, &log)?;
    let api = Api::new(gui_port, vec![("X-API-Key".into(), key)]);
    daemon::wait_ready(TARGET, &format!("{daemon_name} API"), pid, &log, daemon::START_TIMEOUT, || {
        api.get("/rest/system/ping").is_ok_and(|p| p["ping"] == "pong")
    })?;
    let failed = |step: &str, e: String| tools::io_failed(TARGET, &format!("{daemon_name}: {step}"), e);
    let options = api.get("/rest/config/options").map_err(|e| failed("options", e.to_string()))?;
    check_loopback_only(&options, listen_port).map_err(|e| failed("options", e))?;
    let status = api.get("/rest/system/status").map_err(|e| failed("status", e.to_string()))?;
    let id = status["myID"].as_str().ok_or_else(|| failed("status", format!("no myID in {status}")))?.to_string();
    Ok(Instance { api, id, folder, listen_port })
}

/// The config a fresh home starts with (see the module doc).
fn config_xml(gui_port: u16, listen_port: u16, api_key: &str) -> String {
    format!(
        r#"<configuration version="30">
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:{gui_port}</address>
        <apikey>{api_key}</apikey>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:{listen_port}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <announceLANAddresses>false</announceLANAddresses>
        <startBrowser>false</startBrowser>
        <urAccepted>-1</urAccepted>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <crashReportingEnabled>false</crashReportingEnabled>
    </options>
</configuration>
"#
    )
}

/// The options as the daemon read them: only the loopback listen address, and no
/// discovery, relay or NAT traversal.
fn check_loopback_only(options: &Value, listen_port: u16) -> Result<(), String> {
    let want = json!([format!("tcp://127.0.0.1:{listen_port}")]);
    if options["listenAddresses"] != want {
        return Err(format!("listens on {} (wanted {want})", options["listenAddresses"]));
    }
    for off in ["globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled", "natEnabled"] {
        if options[off] != json!(false) {
            return Err(format!("{off} is {} (wanted false)", options[off]));
        }
    }
    Ok(())
}

/// Tells `me` about `peer` (its loopback address) and shares the folder with it as `kind`.
fn introduce(me: &Instance, peer: &Instance, kind: &str) -> Result<(), TargetError> {
    let device = json!({
        "deviceID": peer.id,
        "name": "peer",
        "addresses": [format!("tcp://127.0.0.1:{}", peer.listen_port)],
    });
    let folder = json!({
        "id": FOLDER,
        "label": FOLDER,
        "path": me.folder.to_string_lossy(),
        "type": kind,
        "devices": [{"deviceID": me.id}, {"deviceID": peer.id}],
        "fsWatcherEnabled": true,
        "fsWatcherDelayS": WATCH_DELAY_S,
        "rescanIntervalS": 3600,
    });
    for (path, body) in [("/rest/config/devices", device), ("/rest/config/folders", folder)] {
        me.api.post(path, &body).map_err(|e| tools::io_failed(TARGET, "introduce the devices", e))?;
    }
    Ok(())
}

/// Polls `ready` (an API call) for up to the start timeout.
fn wait(side: &Instance, what: &str, mut ready: impl FnMut() -> bool) -> Result<(), TargetError> {
    let deadline = std::time::Instant::now() + daemon::START_TIMEOUT;
    while !ready() {
        if std::time::Instant::now() > deadline {
            let folder = side.folder.display();
            return Err(tools::io_failed(TARGET, what, format!("not after {:?} ({folder})", daemon::START_TIMEOUT)));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// Syncthing's folder marker and its temporary files (`.syncthing.NAME.tmp`, and
/// `~syncthing~NAME.tmp` on Windows-compatible names).
fn own_name(name: &str) -> bool {
    name == MARKER
        || name == ".stignore"
        || name == ".stversions"
        || ((name.starts_with(".syncthing.") || name.starts_with("~syncthing~")) && name.ends_with(".tmp"))
}

impl SyncDaemon for Syncthing {
    fn name(&self) -> &'static str {
        TARGET
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn watched(&self) -> &Path {
        &self.send.folder
    }

    fn remote(&self) -> &Path {
        &self.receive.folder
    }

    fn unwatched(&self) -> &Path {
        &self.unwatched
    }

    fn own_names(&self) -> fn(&str) -> bool {
        own_name
    }

    fn busy(&mut self) -> anyhow::Result<bool> {
        let path = format!("/rest/db/completion?folder={FOLDER}&device={}", self.receive.id);
        let c = self.send.api.get(&path).context("syncthing completion")?;
        let pending = |k: &str| c[k].as_f64().unwrap_or(0.0) > 0.0;
        Ok(c["completion"].as_f64().unwrap_or(0.0) < 100.0 || pending("needItems") || pending("needDeletes") || pending("needBytes"))
    }

    fn bytes_transferred(&mut self) -> anyhow::Result<u64> {
        let c = self.send.api.get("/rest/system/connections").context("syncthing connections")?;
        let total = |k: &str| c["total"][k].as_u64().unwrap_or(0);
        Ok(total("inBytesTotal") + total("outBytesTotal"))
    }

    fn rescan(&mut self) -> anyhow::Result<()> {
        // Syncthing refuses a scan while the folder is still starting or busy, and may
        // reset the connection doing so: the request is repeated for a while.
        let path = format!("/rest/db/scan?folder={FOLDER}");
        let started = std::time::Instant::now();
        loop {
            match self.send.api.post(&path, &json!({})) {
                Ok(_) => return Ok(()),
                Err(_) if started.elapsed() < RESCAN_PATIENCE => std::thread::sleep(std::time::Duration::from_secs(1)),
                Err(e) => return Err(anyhow::Error::new(e).context(format!("syncthing db/scan, tried for {RESCAN_PATIENCE:?}"))),
            }
        }
    }

    fn teardown(mut self: Box<Self>) -> Result<(), TargetError> {
        let problems = self.guard.teardown();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TargetError::Failed { target: TARGET.into(), step: "teardown".into(), detail: problems.join("; ") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_listens_on_loopback_only_and_the_check_catches_a_default() {
        let xml = config_xml(8385, 22001, "k");
        assert!(xml.contains("<address>127.0.0.1:8385</address>") && xml.contains("tcp://127.0.0.1:22001"), "{xml}");
        let ok = json!({"listenAddresses": ["tcp://127.0.0.1:22001"], "globalAnnounceEnabled": false,
            "localAnnounceEnabled": false, "relaysEnabled": false, "natEnabled": false});
        assert_eq!(check_loopback_only(&ok, 22001), Ok(()));
        let mut default = ok.clone();
        default["listenAddresses"] = json!(["default"]);
        assert!(check_loopback_only(&default, 22001).unwrap_err().contains("listens on"));
        let mut relays = ok;
        relays["relaysEnabled"] = json!(true);
        assert!(check_loopback_only(&relays, 22001).unwrap_err().contains("relaysEnabled"));
    }

    #[test]
    fn own_names_are_the_marker_and_temporary_files() {
        assert!(own_name(".stfolder") && own_name(".syncthing.gene_1.bin.gz.tmp") && own_name("~syncthing~x.tmp"));
        assert!(!own_name("dataset_identity.json") && !own_name(".syncthing.x") && !own_name("x.tmp"));
    }
}
