import { useEffect, useState } from 'react';

// Hash routes: the server serves one index.html at /console/, and a reload keeps the screen.
export type Route = { screen: 'queues' } | { screen: 'case'; id: number } | { screen: 'audit' } | { screen: 'ncmec' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const caseMatch = /^\/cases\/(\d+)$/.exec(path);
  if (caseMatch) return { screen: 'case', id: Number(caseMatch[1]) };
  if (path === '/audit') return { screen: 'audit' };
  if (path === '/ncmec') return { screen: 'ncmec' };
  return { screen: 'queues' };
}

export function routeHash(route: Route): string {
  switch (route.screen) {
    case 'case':
      return `#/cases/${route.id}`;
    case 'audit':
      return '#/audit';
    case 'ncmec':
      return '#/ncmec';
    case 'queues':
      return '#/queues';
  }
}

export function navigate(route: Route): void {
  const hash = routeHash(route);
  if (window.location.hash !== hash) window.location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
