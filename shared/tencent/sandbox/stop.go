package sandbox

import "context"

// EndCalls ends every call still in progress as end_call would (the robot
// hangs up, or cancels the invitations nobody answered, and the callbacks
// go out), then waits, until ctx is done, for every call to have played to
// its end. It returns how many calls it ended. `callfn serve` calls it on
// its way down, so that no call is left in progress in the table.
func (s *Sandbox) EndCalls(ctx context.Context) (int, error) {
	s.mu.Lock()
	var ids []string
	for _, id := range s.order {
		if c := s.calls[id]; c != nil && !c.ended {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if s.requestEnd(id) {
			n++
		}
	}
	return n, s.Wait(ctx)
}
