import { useCallback, useState } from 'react';
import type { LmxClient } from '../api/client.ts';
import { useMediaQuery } from '../hooks/use-media-query.ts';
import { useServer } from '../hooks/use-server.ts';
import type { NativeBridge } from '../native-bridge.ts';
import { AlertsPanel } from './AlertsPanel.tsx';
import { ClusterPanel } from './ClusterPanel.tsx';
import { DownloadBox } from './DownloadBox.tsx';
import { HealthPanel } from './HealthPanel.tsx';
import { ModelsPanel } from './ModelsPanel.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';
import { StatusHeader } from './StatusHeader.tsx';
import { TabPanel, Tabs, type TabItem } from './Tabs.tsx';
import { TryIt } from './TryIt.tsx';

/** Wider than the menu-bar window: the LAN dashboard shows the panels side by side. */
export const WIDE_QUERY = '(min-width: 900px)';

export function Dashboard({
  client,
  bridge,
  onUnauthorized,
  onKeyRotated,
}: {
  client: LmxClient;
  bridge: NativeBridge | undefined;
  onUnauthorized(): void;
  onKeyRotated(key: string): void;
}) {
  const server = useServer(client, onUnauthorized);
  const wide = useMediaQuery(WIDE_QUERY);
  const [tab, setTab] = useState('models');
  const { refreshHealth: reloadHealth } = server;
  const refreshHealth = useCallback(() => void reloadHealth(), [reloadHealth]);

  const alertCount = server.alerts.length;
  const alertsLabel = <>Alerts{alertCount > 0 && <span className="count">{alertCount}</span>}</>;
  const alertsName = alertCount > 0 ? `Alerts (${alertCount})` : 'Alerts';

  const models = (
    <>
      <ModelsPanel client={client} models={server.models} onChanged={() => void server.refreshModels()} />
      <DownloadBox client={client} downloads={server.downloads} />
    </>
  );
  const health = (
    <>
      <HealthPanel health={server.health} stats={server.stats} refresh={refreshHealth} />
      <ClusterPanel client={client} />
    </>
  );
  const alerts = (
    <AlertsPanel
      client={client}
      alerts={server.alerts}
      onDismiss={server.dismissAlert}
      onSafeModeExited={() => void server.refreshState()}
    />
  );
  const tryIt = <TryIt client={client} models={server.models.value} />;
  const settings = <SettingsPanel client={client} bridge={bridge} onKeyRotated={onKeyRotated} />;

  const tabs: TabItem[] = wide
    ? [
        { id: 'overview', label: 'Overview' },
        { id: 'settings', label: 'Settings' },
      ]
    : [
        { id: 'models', label: 'Models' },
        { id: 'health', label: 'Health' },
        { id: 'alerts', label: alertsLabel, name: alertsName },
        { id: 'try', label: 'Try it' },
        { id: 'settings', label: 'Settings' },
      ];
  const selected = tabs.some((item) => item.id === tab) ? tab : wide ? 'overview' : 'models';

  return (
    <div className={wide ? 'app wide' : 'app compact'}>
      {/* The page itself scrolls (an inner scroller would need its own tab stop); this part stays put. */}
      <div className="top">
        <StatusHeader
          client={client}
          state={server.state}
          connection={server.connection}
          onStateChanged={() => void server.refreshState()}
        />
        <nav className="tabs-bar">
          <Tabs tabs={tabs} selected={selected} onSelect={setTab} label="Sections" />
        </nav>
      </div>
      <main className="content">
        <TabPanel id={selected}>
          {selected === 'overview' && (
            <div className="grid">
              <div className="column">{models}</div>
              <div className="column">{health}</div>
              <div className="column">
                {alerts}
                {tryIt}
              </div>
            </div>
          )}
          {selected === 'models' && models}
          {selected === 'health' && health}
          {selected === 'alerts' && alerts}
          {selected === 'try' && tryIt}
          {selected === 'settings' && <div className="settings-wrap">{settings}</div>}
        </TabPanel>
      </main>
    </div>
  );
}
